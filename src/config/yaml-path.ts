/**
 * Paths into the pipeline's data, and how errors turn them into places in
 * the file. Free of `yaml` at run time, so that modules on the cache-hit
 * path can name paths without loading the parser.
 */

import type { SourceLocation } from '../util/errors.js';

/** A path into the parsed pipeline: map keys and list indexes, e.g. `['nodes', 'build', 'inputs', 0]`. */
export type YamlPath = readonly (string | number)[];

/**
 * Turns a path into the pipeline file's data back into a place in its text.
 * Checks past the parser see only plain JS values, so every error they report
 * is located through this.
 */
export interface Locator {
  /** Where the value at `path` starts (or its key, when the value is empty). */
  value(path: YamlPath): SourceLocation;
  /** Where the key naming the value at `path` starts: where to point for unknown or misnamed keys. */
  key(path: YamlPath): SourceLocation;
}

/** `nodes.build.inputs[0]`: how messages name a place in the pipeline file. */
export function formatPath(path: YamlPath): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}
