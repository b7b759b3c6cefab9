import { hashBytes, type ContentHash } from '../util/hash.js';

/**
 * Names that usually hold credentials. spx.lock is committed, and an
 * unsalted sha256 of a short or guessable secret gives the secret back to
 * anyone who tries candidates; so such a variable enters the fingerprint by
 * whether it is set, not by its value, unless the node names it in
 * `envByValue`.
 */
const SECRET_LOOKING = /KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL/i;

export function looksLikeSecret(name: string): boolean {
  return SECRET_LOOKING.test(name);
}

/**
 * One hash per declared variable. An unset variable hashes differently
 * from an empty one, and a secret-looking one differently by presence
 * only, so that switching a variable between the two ways reruns the node.
 */
export function hashEnv(names: readonly string[], byValue: readonly string[], env: NodeJS.ProcessEnv): Record<string, ContentHash> {
  const hashed: Record<string, ContentHash> = Object.create(null) as Record<string, ContentHash>;
  for (const name of names) {
    const value = env[name];
    if (value === undefined) hashed[name] = hashBytes(`unset:${name}`);
    else if (looksLikeSecret(name) && !byValue.includes(name)) hashed[name] = hashBytes(`present:${name}`);
    else hashed[name] = hashBytes(`set:${name}=${value}`);
  }
  return hashed;
}
