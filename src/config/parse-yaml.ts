import { LineCounter, parseDocument, type YAMLError } from 'yaml';
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
