import { isAlias, isCollection, isPair, LineCounter, parseDocument, visit, type Alias, type Document, type Node, type YAMLError } from 'yaml';
import type { SourceLocation } from './types.js';
import { UserError, UserErrors } from '../util/errors.js';
import { createLocator } from './locate.js';
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
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new UserErrors(doc.errors.map((error) => toUserError(error, text, file)));
  }
  const at = (offset: number | undefined): SourceLocation => {
    const { line, col } = lineCounter.linePos(offset ?? 0);
    return { file, line, column: col };
  };
  const deep = tooDeep(doc);
  if (deep) {
    throw new UserErrors([new UserError(`values nested more than ${MAX_DEPTH} levels deep; a pipeline needs a handful`, at(deep.range?.[0]))]);
  }
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

/** How far aliases may expand (yaml's measure: uses of an anchor times the aliases inside it). */
const MAX_ALIAS_COUNT = 100;
/** Far beyond any pipeline, far below what the parser and the checks can recurse through. */
const MAX_DEPTH = 64;

/** The first collection nested deeper than MAX_DEPTH, found without recursion. */
function tooDeep(doc: Document): Node | undefined {
  const stack: [unknown, number][] = [[doc.contents, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (!isCollection(node)) continue;
    if (depth > MAX_DEPTH) return node;
    for (const item of node.items) {
      if (isPair(item)) {
        stack.push([item.key, depth + 1], [item.value, depth + 1]);
      } else {
        stack.push([item, depth + 1]);
      }
    }
  }
  return undefined;
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
  if (error.code === 'DUPLICATE_KEY') {
    // The error points at the repeated key; yaml's message does not name it.
    const key = (/^[^:\n]*/.exec(text.slice(error.pos[0]))?.[0] ?? '').trim().replace(/^(["'])(.*)\1$/, '$2');
    return new UserError(`duplicate key "${key}": each key may appear once in a mapping`, location);
  }
  if (/call stack/i.test(error.message)) {
    return new UserError(`values nested too deep for the parser; a pipeline needs a handful of levels`, location);
  }
  // prettyErrors appends " at line L, column C:" and a code frame; the location already says that.
  const message = (error.message.split('\n')[0] ?? error.message).replace(/ at line \d+, column \d+:?$/, '');
  return new UserError(`invalid YAML: ${message}${hint(error, text)}`, location);
}

/** The two usual ways to break YAML in a pipeline file, and their fix. */
function hint(error: YAMLError, text: string): string {
  if (error.code === 'BLOCK_AS_IMPLICIT_KEY') return ' (quote a value that contains ": ")';
  const line = text.slice(text.lastIndexOf('\n', error.pos[0] - 1) + 1).split('\n', 1)[0] ?? '';
  // `[${vars.out}/]`: braces open a mapping inside [ ] and { }.
  if (/[[{].*\$\{/.test(line)) return ' (quote values that contain ${vars.NAME} inside [ ] or { })';
  return '';
}
