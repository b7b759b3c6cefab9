import { createHash } from 'node:crypto';

/**
 * Branded hash types keep a file's content hash from being passed where a
 * fingerprint is expected (the mistake wireit's types also guard against).
 */
export type ContentHash = string & { readonly __brand: 'ContentHash' };
export type Fingerprint = string & { readonly __brand: 'Fingerprint' };

export function hashBytes(data: string | Uint8Array): ContentHash {
  return createHash('sha256').update(data).digest('hex') as ContentHash;
}

/**
 * JSON with object keys sorted at every level, so that two equal values hash
 * alike whatever order their keys were written in (reordering keys in
 * spx.yaml must not make a node stale).
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    const sorted: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
    return sorted;
  });
}

export function hashValue(value: unknown): ContentHash {
  return hashBytes(canonicalJson(value));
}
