import { hashBytes, type ContentHash } from '../util/hash.js';
import { nameTable } from '../util/name-table.js';
import { looksLikeSecret } from '../util/secrets.js';

/**
 * One hash per declared variable. A secret-looking one enters by whether
 * it is set, unless the node names it in `envByValue`: spx.lock is
 * committed, and an unsalted sha256 of a guessable secret gives it back.
 * An unset variable hashes differently from an empty one, and presence
 * differently from any value, so that switching a variable between the two
 * ways reruns the node.
 */
export function hashEnv(names: readonly string[], byValue: readonly string[], env: NodeJS.ProcessEnv): Record<string, ContentHash> {
  const hashed = nameTable<ContentHash>();
  for (const name of names) {
    const value = env[name];
    if (value === undefined) hashed[name] = hashBytes(`unset:${name}`);
    else if (looksLikeSecret(name) && !byValue.includes(name)) hashed[name] = hashBytes(`present:${name}`);
    else hashed[name] = hashBytes(`set:${name}=${value}`);
  }
  return hashed;
}
