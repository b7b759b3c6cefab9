import { hashValue, type ContentHash, type Fingerprint } from '../util/hash.js';

/**
 * Bump when the meaning of recorded fingerprints changes: every node then
 * rebuilds once, instead of a stale one passing for fresh.
 */
export const STATE_FORMAT = 1;

/**
 * Everything that can change a node's output, and nothing that cannot.
 * Each field is here for a reason:
 */
export interface FingerprintParts {
  /** A `run` and a `plan` node with equal settings still do different work. */
  kind: string;
  /**
   * The node's resolved settings (command, declared outputs, …), one hash per
   * setting so that `spx status` can name the one that changed. Resolved,
   * not raw: reformatting spx.yaml or editing its comments changes nothing.
   */
  settings: Record<string, ContentHash>;
  /** Content (never mtime) of every triggering input file: `touch` changes nothing. */
  inputs: Record<string, ContentHash>;
  /**
   * The *outputs* of needed nodes, not their fingerprints: an upstream that
   * reran and wrote the same bytes leaves this node fresh (early cutoff).
   * `uses` nodes are absent on purpose: they are order-only.
   */
  needs: Record<string, ContentHash>;
  /** Declared environment variables, hashed (by presence only for secret-looking names: env.ts). */
  env: Record<string, ContentHash>;
}

/** The parts that are tables of hashes (all but `kind`). */
export const HASHED_PARTS = ['settings', 'inputs', 'needs', 'env'] as const;

export function computeFingerprint(parts: FingerprintParts): Fingerprint {
  // The state format is in the hash so that a change in what these parts
  // mean invalidates old records instead of silently matching them.
  return hashValue({ format: STATE_FORMAT, ...parts }) as string as Fingerprint;
}

export function hashSettings(settings: Record<string, unknown>): Record<string, ContentHash> {
  const hashed: Record<string, ContentHash> = {};
  for (const [name, value] of Object.entries(settings)) hashed[name] = hashValue(value);
  return hashed;
}

/** What dependents see of a node: one hash over all its outputs. */
export function hashOutputs(outputs: Record<string, ContentHash>): ContentHash {
  return hashValue(outputs);
}

/**
 * Whether the parts equal those a recorded fingerprint was computed from:
 * then the recorded fingerprint is the fingerprint, and a no-op build of a
 * thousand nodes hashes nothing.
 */
export function sameParts(recorded: FingerprintParts, current: FingerprintParts): boolean {
  return recorded.kind === current.kind && HASHED_PARTS.every((part) => sameRecord(recorded[part], current[part]));
}

function sameRecord(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  for (const key of keys) if (a[key] !== b[key]) return false;
  return true;
}
