import { readFileSync, writeFileSync } from 'node:fs';
import { seal, unseal } from '../../src/util/sealed.js';

/**
 * The JSON inside one of spx's sealed cache files (`.spx/stat-cache.json`
 * and the like), for tests that plant a value to prove spx trusts the cache.
 */
export function readSealed<T = any>(file: string): T {
  const opened = unseal(readFileSync(file, 'utf8'));
  if ('problem' in opened) throw new Error(`${file} is not sealed with this account's key: ${opened.problem ?? 'another key'}`);
  return JSON.parse(opened.body) as T;
}

/** Writes a value sealed as spx would, with this account's key (the tests run as the user spx runs as). */
export function writeSealed(file: string, value: unknown): void {
  const sealed = seal(JSON.stringify(value));
  if (sealed === undefined) throw new Error('no account key to seal with');
  writeFileSync(file, sealed);
}
