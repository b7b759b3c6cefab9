import { isMap, parseDocument, type Document } from 'yaml';
import { readPlainYaml } from './read-plain-yaml.js';

/** Below this size a pipeline file is parsed whole: splitting would gain nothing. */
const WHOLE_BELOW = 256 * 1024;
/** Nodes per part: small enough that a part's syntax tree is a few MB. */
const NODES_PER_PART = 500;

/**
 * yaml holds the syntax tree and then the Document of a whole file at once:
 * for a pipeline of 20,000 nodes some 300 MB, and seconds of garbage
 * collection. A large file whose `nodes:` is a block mapping is read here in
 * parts of a few hundred nodes, each read plainly where it is written so
 * (read-plain-yaml.ts), else parsed by yaml, checked by `isClean` (given the
 * nesting depth of its top collection) and turned into plain data at once:
 * a node written in YAML the plain reader leaves to yaml costs its part, not
 * the file.
 *
 * Positions are not kept: the caller parses the file whole when it has an
 * error to locate. Returns undefined, for the caller to parse the file whole
 * now, when the file is small, is not laid out plainly (directives, more
 * than one document, node names written other than as plain or quoted
 * words), or any part is not clean, uses another part's anchor or repeats a
 * node name: the whole-file parser then reports it as it always has.
 */
export function parseInParts(text: string, isClean: (doc: Document, depth: number) => boolean): { data: unknown } | undefined {
  if (text.length < WHOLE_BELOW) return undefined;
  const layout = nodeBoundaries(text);
  if (!layout) return undefined;
  const { starts, end } = layout;

  // The head ends with the line `nodes:` (see nodeBoundaries): its last key, empty.
  const data = readPart(text.slice(0, starts[0]), 1, isClean);
  if (!data || !Object.hasOwn(data, 'nodes') || data['nodes'] !== null) return undefined;
  const after = end === text.length ? {} : readPart(text.slice(end), 1, isClean);
  if (!after) return undefined;
  if (Object.keys(after).some((key) => Object.hasOwn(data, key))) return undefined;

  // As yaml makes mappings: plain objects, each key an own property (`__proto__` too).
  const nodes: Record<string, unknown> = {};
  for (let first = 0; first < starts.length; first += NODES_PER_PART) {
    const last = Math.min(first + NODES_PER_PART, starts.length);
    const entries = readPart(text.slice(starts[first], last < starts.length ? starts[last] : end), 2, isClean);
    if (!entries || Object.keys(entries).length !== last - first) return undefined;
    for (const [name, node] of Object.entries(entries)) {
      if (Object.hasOwn(nodes, name)) return undefined;
      Object.defineProperty(nodes, name, { value: node, writable: true, enumerable: true, configurable: true });
    }
  }
  data['nodes'] = nodes;
  for (const [key, value] of Object.entries(after)) Object.defineProperty(data, key, { value, writable: true, enumerable: true, configurable: true });
  return { data };
}

/**
 * A part's mapping as data: read plainly where it is written so (most
 * parts of most files), else by yaml; undefined when yaml finds it unclean
 * or it is no mapping.
 */
function readPart(text: string, depth: number, isClean: (doc: Document, depth: number) => boolean): Record<string, unknown> | undefined {
  const plain = readPlainYaml(text, depth);
  if (plain) return plain;
  const doc = parseDocument(text, { uniqueKeys: false });
  return doc.warnings.length === 0 && isClean(doc, depth) && isMap(doc.contents) ? toData(doc) : undefined;
}

/** A part's data; undefined for an alias to another part's anchor (or an alias bomb: the whole parse says which). */
function toData(doc: Document): Record<string, unknown> | undefined {
  try {
    return (doc.toJS({ maxAliasCount: 100 }) ?? undefined) as Record<string, unknown> | undefined;
  } catch {
    return undefined;
  }
}

/**
 * Where each entry of the top-level `nodes:` block mapping starts (the start
 * of its line), and where the mapping ends, or undefined when the file is
 * not laid out that plainly. A line that only looks like an entry (inside a
 * quoted string or a flow list spanning lines) would leave a part with an
 * unclosed quote or bracket: the part's parse fails and the file is parsed
 * whole. Block scalars cannot hide one: their lines are indented deeper.
 */
function nodeBoundaries(text: string): { starts: number[]; end: number } | undefined {
  const starts: number[] = [];
  let section: 'before' | 'nodes-line' | 'nodes' = 'before';
  let childIndent = 0;
  for (let lineStart = 0; lineStart < text.length; ) {
    const newline = text.indexOf('\n', lineStart);
    const lineEnd = newline === -1 ? text.length : newline;
    const line = text.slice(lineStart, lineEnd);
    const indent = line.length - line.trimStart().length;
    const content = line.slice(indent);
    const start = lineStart;
    lineStart = lineEnd + 1;
    if (content === '' || content.startsWith('#')) continue;
    if (indent === 0 && /^(---|\.\.\.|%)/.test(content)) return undefined;
    const key = KEY.exec(content)?.[1];

    if (section === 'before') {
      if (indent === 0 && key === 'nodes') {
        if (!/^nodes:[ \t]*(#.*)?\r?$/.test(content)) return undefined;
        section = 'nodes-line';
      }
    } else if (indent === 0) {
      if (section === 'nodes-line' || key === undefined) return undefined;
      return { starts, end: start };
    } else if (section === 'nodes-line') {
      if (key === undefined) return undefined;
      section = 'nodes';
      childIndent = indent;
      starts.push(start);
    } else if (indent === childIndent) {
      if (key === undefined) return undefined;
      starts.push(start);
    } else if (indent < childIndent) {
      return undefined;
    }
  }
  return section === 'nodes' ? { starts, end: text.length } : undefined;
}

/** A mapping key starting a line, as node names are written: plain, or quoted without escapes. */
const KEY = /^([A-Za-z0-9_][\w.-]*|"[^"\\]*"|'[^']*'):(?:[ \t]|\r?$)/;
