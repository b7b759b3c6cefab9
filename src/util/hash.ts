import { hash } from 'node:crypto';

/**
 * Branded hash types keep a file's content hash from being passed where a
 * fingerprint is expected (the mistake wireit's types also guard against).
 */
export type ContentHash = string & { readonly __brand: 'ContentHash' };
export type Fingerprint = string & { readonly __brand: 'Fingerprint' };

/** One-shot hashing: half the cost of createHash() for the small files a build hashes by thousands. */
export function hashBytes(data: string | Uint8Array): ContentHash {
  return hash('sha256', data, 'hex') as ContentHash;
}

/**
 * JSON with object keys sorted at every level, so that two equal values hash
 * alike whatever order their keys were written in (reordering keys in
 * spx.yaml must not make a node stale).
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((item) => (item === undefined ? 'null' : canonicalJson(item))).join(',')}]`;
  const fields: string[] = [];
  for (const key of Object.keys(value).sort()) {
    const field = (value as Record<string, unknown>)[key];
    // As JSON.stringify does: an undefined field is absent.
    if (field !== undefined) fields.push(`${JSON.stringify(key)}:${canonicalJson(field)}`);
  }
  return `{${fields.join(',')}}`;
}

export function hashValue(value: unknown): ContentHash {
  return hashBytes(canonicalJson(value));
}
