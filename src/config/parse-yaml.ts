import { isCollection, isPair, isScalar, LineCounter, parseDocument, visit, type Alias, type Document, type Node, type YAMLError } from 'yaml';
import { UserError, UserErrors, type SourceLocation } from '../util/errors.js';
import { createLocator } from './locate.js';
import { parseInParts } from './parse-in-parts.js';
import { readPlainYaml } from './read-plain-yaml.js';
import type { Locator } from './yaml-path.js';

export interface ParsedYaml {
  data: unknown;
  locator: Locator;
}

/**
 * Parses the pipeline text, keeping positions so that later checks can point
 * into the file. Syntax errors and duplicate keys are all reported at once.
 */
export function parseYaml(text: string, file: string): ParsedYaml {
  const plain = readPlainYaml(text) ?? parseInParts(text, (doc, depth) => doc.errors.length === 0 && checkStructure(doc, () => ({ file, line: 1, column: 1 }), depth).length === 0)?.data;
  if (plain === undefined) return parseWhole(text, file);
  // Positions are wanted only for errors: the file is parsed whole again then, keeping them.
  let whole: Locator | undefined;
  const locator = (): Locator => (whole ??= parseWhole(text, file).locator);
  return { data: plain, locator: { value: (path) => locator().value(path), key: (path) => locator().key(path) } };
}

function parseWhole(text: string, file: string): ParsedYaml {
  const lineCounter = new LineCounter();
  // yaml's own uniqueKeys check compares each key with every earlier one:
  // minutes for a mapping of 20,000 nodes. checkStructure does it with a set.
  const doc = parseDocument(text, { lineCounter, uniqueKeys: false, prettyErrors: true });
  const at = (offset: number | undefined): SourceLocation => {
    const { line, col } = lineCounter.linePos(offset ?? 0);
    return { file, line, column: col };
  };
  const errors = doc.errors.map((error) => toUserError(error, text, file));
  errors.push(...checkStructure(doc, at));
  if (errors.length > 0) throw new UserErrors(errors.sort(byPlace));
  let data: unknown;
  try {
    // A small alias budget: the file is a config, not a place for a billion laughs.
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    if (!(error instanceof ReferenceError)) throw error;
    throw new UserErrors([aliasError(error, doc, file, at)]);
  }
  return { data, locator: createLocator(file, doc, lineCounter) };
}

function byPlace(a: UserError, b: UserError): number {
  return (a.location?.line ?? 0) - (b.location?.line ?? 0) || (a.location?.column ?? 0) - (b.location?.column ?? 0);
}

/** How far aliases may expand (yaml's measure: uses of an anchor times the aliases inside it). */
const MAX_ALIAS_COUNT = 100;
/** Far beyond any pipeline, far below what the parser and the checks can recurse through. */
const MAX_DEPTH = 64;

/**
 * What the parser leaves to us: no key twice in one mapping, and no
 * collection nested deeper than MAX_DEPTH (reported once, at the first).
 * Walks without recursion, since depth is what it checks.
 */
function checkStructure(doc: Document, at: (offset: number | undefined) => SourceLocation, depth = 1): UserError[] {
  const errors: UserError[] = [];
  const stack: [unknown, number][] = [[doc.contents, depth]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (!isCollection(node)) continue;
    if (depth > MAX_DEPTH) {
      errors.push(new UserError(`values nested more than ${MAX_DEPTH} levels deep; a pipeline needs a handful`, at(node.range?.[0])));
      break;
    }
    const keys = new Set<unknown>();
    for (const item of node.items) {
      if (!isPair(item)) {
        stack.push([item, depth + 1]);
        continue;
      }
      const key = isScalar(item.key) ? item.key.value : item.key;
      if (keys.has(key)) {
        errors.push(new UserError(`duplicate key "${String(key)}": each key may appear once in a mapping`, at((item.key as Node | null)?.range?.[0])));
      }
      keys.add(key);
      stack.push([item.key, depth + 1], [item.value, depth + 1]);
    }
  }
  return errors;
}

/** yaml throws a bare ReferenceError for an alias bomb or an alias to no anchor: say where and what to do. */
function aliasError(error: ReferenceError, doc: Document, file: string, at: (offset: number | undefined) => SourceLocation): UserError {
  const aliases: Alias[] = [];
  visit(doc, { Alias: (_key, alias) => void aliases.push(alias) });
  const unresolved = /^Unresolved alias.*: (.*)$/.exec(error.message)?.[1];
  if (unresolved !== undefined) {
    const alias = aliases.find((a) => a.source === unresolved);
    return new UserError(`alias *${unresolved} names no anchor: define &${unresolved} before it`, alias ? at(alias.range?.[0]) : { file, line: 1, column: 1 });
  }
  if (/excessive alias count/i.test(error.message)) {
    return new UserError(
      `aliases expand to too much data (more than ${MAX_ALIAS_COUNT} copies; a "billion laughs"?): write the values out, or use fewer aliases`,
      at(aliases[0]?.range?.[0]),
    );
  }
  return new UserError(`invalid YAML: ${error.message}`, at(aliases[0]?.range?.[0]));
}

function toUserError(error: YAMLError, text: string, file: string): UserError {
  const start = error.linePos?.[0];
  const location = { file, line: start?.line ?? 1, column: start?.col ?? 1 };
  if (/call stack/i.test(error.message)) {
    return new UserError(`values nested too deep for the parser; a pipeline needs a handful of levels`, location);
  }
  // prettyErrors appends " at line L, column C:" and a code frame; the location already says that.
  const message = (error.message.split('\n')[0] ?? error.message).replace(/ at line \d+, column \d+:?$/, '');
  return new UserError(`invalid YAML: ${message}${hint(error, text)}`, location);
}

/** The usual ways to break YAML in a pipeline file, and their fix. */
function hint(error: YAMLError, text: string): string {
  if (error.code === 'BLOCK_AS_IMPLICIT_KEY') return ' (quote a value that contains ": ")';
  const line = text.slice(text.lastIndexOf('\n', error.pos[0] - 1) + 1).split('\n', 1)[0] ?? '';
  // `[${vars.out}/]`: braces open a mapping inside [ ] and { }.
  if (/[[{].*\$\{/.test(line)) return ' (quote values that contain ${vars.NAME} inside [ ] or { })';
  // `[features/{feature}/USER-SPEC.md]`: the same, for a foreach placeholder.
  if (/\[.*\{[A-Za-z_][A-Za-z0-9_]*\}/.test(line)) return ' (a {placeholder} inside [ ] must be quoted: ["features/{feature}/USER-SPEC.md"])';
  return '';
}
