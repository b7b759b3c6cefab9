import { isMap, isScalar, Lexer, parseDocument, type Document } from 'yaml';

/** Below this size a pipeline file is parsed whole: splitting would gain nothing. */
const WHOLE_BELOW = 256 * 1024;
/** Nodes per part: small enough that a part's syntax tree is a few MB. */
const NODES_PER_PART = 500;

/** Lexer tokens that stand for no text (cst.js: DOCUMENT, FLOW_END, SCALAR). */
const CONTROL_TOKENS = new Set(['\x02', '\x18', '\x1f']);

/**
 * yaml holds the syntax tree and then the Document of a whole file at once:
 * for a pipeline of 20,000 nodes some 300 MB, and seconds of garbage
 * collection. A large file whose `nodes:` is a block mapping is read here in
 * parts of a few hundred nodes, each parsed, checked by `isClean` (given the
 * nesting depth of its top collection) and turned into plain data at once.
 *
 * Positions are not kept: the caller parses the file whole when it has an
 * error to locate. Returns undefined, for the caller to parse the file whole
 * now, when the file is small, is not of that plain shape (anchors, aliases,
 * directives, more than one document, explicit keys), or any part is not
 * clean or repeats a node name: the whole-file parser then reports it as it
 * always has.
 */
export function parseInParts(text: string, isClean: (doc: Document, depth: number) => boolean): { data: unknown } | undefined {
  if (text.length < WHOLE_BELOW) return undefined;
  const layout = nodeBoundaries(text);
  if (!layout) return undefined;
  const { starts, end } = layout;

  const head = parsePart(text.slice(0, starts[0]), 1, isClean);
  if (!isMap(head?.contents)) return undefined;
  const nodesPair = head.contents.items.at(-1);
  if (!nodesPair || !isScalar(nodesPair.key) || nodesPair.key.value !== 'nodes' || !isEmpty(nodesPair.value)) return undefined;
  const tail = parsePart(text.slice(end), 1, isClean);
  if (!tail || !(isMap(tail.contents) || tail.contents === null)) return undefined;
  const data = head.toJS() as Record<string, unknown>;
  const after = (tail.toJS() ?? {}) as Record<string, unknown>;
  if (Object.keys(after).some((key) => Object.hasOwn(data, key))) return undefined;

  // As yaml makes mappings: plain objects, each key an own property (`__proto__` too).
  const nodes: Record<string, unknown> = {};
  for (let first = 0; first < starts.length; first += NODES_PER_PART) {
    const last = Math.min(first + NODES_PER_PART, starts.length);
    const part = parsePart(text.slice(starts[first], last < starts.length ? starts[last] : end), 2, isClean);
    if (!isMap(part?.contents) || part.contents.items.length !== last - first) return undefined;
    for (const [name, node] of Object.entries(part.toJS() as Record<string, unknown>)) {
      if (Object.hasOwn(nodes, name)) return undefined;
      Object.defineProperty(nodes, name, { value: node, writable: true, enumerable: true, configurable: true });
    }
  }
  data['nodes'] = nodes;
  for (const [key, value] of Object.entries(after)) Object.defineProperty(data, key, { value, writable: true, enumerable: true, configurable: true });
  return { data };
}

function parsePart(text: string, depth: number, isClean: (doc: Document, depth: number) => boolean): Document | undefined {
  const doc = parseDocument(text, { uniqueKeys: false });
  return doc.warnings.length === 0 && isClean(doc, depth) ? doc : undefined;
}

function isEmpty(value: unknown): boolean {
  return value === null || (isScalar(value) && value.value === null);
}

/**
 * Where each entry of the top-level `nodes:` block mapping starts (the start
 * of its line), and where the mapping ends, found with yaml's own lexer so
 * that block scalars, quoted text and flow collections spanning lines are
 * never cut. Undefined when the file has constructs whose meaning could
 * cross a cut, or `nodes:` is not a block mapping.
 */
function nodeBoundaries(text: string): { starts: number[]; end: number } | undefined {
  const starts: number[] = [];
  let offset = 0;
  let lineStart = 0;
  let indent = 0;
  let atLineStart = true;
  let flowDepth = 0;
  /** The previous token was a scalar starting a line: a key, if a ":" follows. */
  let key: { text: string; indent: number; lineStart: number } | undefined;
  /** Where the walk is: before `nodes:`, on its line, in its entries, past them. */
  let section: 'before' | 'nodes-line' | 'nodes' | 'after' = 'before';
  let nodesLineOpen = false;
  let childIndent = 0;
  let end = text.length;

  for (const token of new Lexer().lex(text)) {
    if (CONTROL_TOKENS.has(token)) continue;
    const first = token[0];
    if (first === '&' || first === '*' || first === '%' || first === '?' || token === '---' || token === '...') return undefined;
    const isNewline = token === '\n' || token === '\r\n';
    // `nodes:` must end its line (a comment aside): anything else is an inline value.
    if (nodesLineOpen && !isNewline && token.trim() !== '' && first !== '#') return undefined;

    if (token === ':' && key && flowDepth === 0) {
      if (key.indent === 0) {
        if (section === 'before' && key.text === 'nodes') {
          section = 'nodes-line';
          nodesLineOpen = true;
        } else if (section === 'nodes') {
          section = 'after';
          end = key.lineStart;
        } else if (section === 'nodes-line') {
          return undefined; // `nodes:` is empty
        }
      } else if (section === 'nodes-line') {
        section = 'nodes';
        childIndent = key.indent;
        starts.push(key.lineStart);
      } else if (section === 'nodes') {
        if (key.indent === childIndent) starts.push(key.lineStart);
        else if (key.indent < childIndent) return undefined;
      }
      key = undefined;
      offset += token.length;
      continue;
    }

    key = undefined;
    if (isNewline) {
      nodesLineOpen = false;
    } else if (atLineStart && /^ +$/.test(token)) {
      indent = token.length;
      offset += token.length;
      continue;
    } else if (atLineStart && flowDepth === 0 && (isPlainKey(token) || first === '"' || first === "'")) {
      key = { text: unquote(token), indent, lineStart };
    }
    if (first === '[' || first === '{') flowDepth++;
    else if (first === ']' || first === '}') flowDepth = Math.max(0, flowDepth - 1);
    offset += token.length;
    // A newline, or a token ending one (a block scalar's text): the next token starts a line.
    atLineStart = isNewline || (token.endsWith('\n') && first !== '"' && first !== "'");
    if (atLineStart) {
      indent = 0;
      lineStart = offset;
    }
  }
  if (offset !== text.length || section !== 'nodes' && section !== 'after' || starts.length === 0) return undefined;
  return { starts, end };
}

function isPlainKey(token: string): boolean {
  return !/^[\s\-[\]{},#|>!@`]/.test(token);
}

function unquote(token: string): string {
  return /^(["'])(.*)\1$/.exec(token)?.[2] ?? token;
}
