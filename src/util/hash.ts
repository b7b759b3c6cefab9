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
 * spx.yaml must not make a node stale), and a recorded file (spx.lock) only
 * changes when what it records did. `indent` spaces per level, as
 * JSON.stringify's third argument; none for a hash.
 */
export function canonicalJson(value: unknown, indent = 0): string {
  return serialize(value, ' '.repeat(indent), '\n');
}

/** `step`: the indentation of one level ('' for compact); `margin`: a newline and the current level's indentation. */
function serialize(value: unknown, step: string, margin: string): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  const inner = step === '' ? '' : margin + step;
  const items: string[] = [];
  if (Array.isArray(value)) {
    for (const item of value) items.push(item === undefined ? 'null' : serialize(item, step, inner));
  } else {
    for (const key of Object.keys(value).sort()) {
      const field = (value as Record<string, unknown>)[key];
      // As JSON.stringify does: an undefined field is absent.
      if (field !== undefined) items.push(`${JSON.stringify(key)}:${step === '' ? '' : ' '}${serialize(field, step, inner)}`);
    }
  }
  const [open, close] = Array.isArray(value) ? ['[', ']'] : ['{', '}'];
  if (items.length === 0 || step === '') return `${open}${items.join(',')}${close}`;
  return `${open}${inner}${items.join(`,${inner}`)}${margin}${close}`;
}

export function hashValue(value: unknown): ContentHash {
  return hashBytes(canonicalJson(value));
}
