import { LineCounter, parseDocument, type YAMLError } from 'yaml';
import { UserError, UserErrors } from '../util/errors.js';
import { createLocator, type Locator } from './locate.js';

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
  // A small alias budget: the file is a config, not a place for a billion laughs.
  const data: unknown = doc.toJS({ maxAliasCount: 100 });
  return { data, locator: createLocator(file, doc, lineCounter) };
}

function toUserError(error: YAMLError, text: string, file: string): UserError {
  const start = error.linePos?.[0];
  const location = { file, line: start?.line ?? 1, column: start?.col ?? 1 };
  if (error.code === 'DUPLICATE_KEY') {
    // The error points at the repeated key; yaml's message does not name it.
    const key = (/^[^:\n]*/.exec(text.slice(error.pos[0]))?.[0] ?? '').trim().replace(/^(["'])(.*)\1$/, '$2');
    return new UserError(`duplicate key "${key}": each key may appear once in a mapping`, location);
  }
  // prettyErrors appends " at line L, column C:" and a code frame; the location already says that.
  const message = (error.message.split('\n')[0] ?? error.message).replace(/ at line \d+, column \d+:?$/, '');
  // The usual way to hit this is an unquoted command such as `echo a: b`.
  const hint = error.code === 'BLOCK_AS_IMPLICIT_KEY' ? ' (quote a value that contains ": ")' : '';
  return new UserError(`invalid YAML: ${message}${hint}`, location);
}
