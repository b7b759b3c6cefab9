import { hashBytes, hashValue, type ContentHash, type Fingerprint } from '../util/hash.js';
import { STATE_FORMAT } from '../state/lockfile.js';
import { nameTable } from '../util/name-table.js';

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
  /** Declared environment variables; hashed, since the values may be secrets. */
  env: Record<string, ContentHash>;
}

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

/** An unset variable hashes differently from an empty one. */
export function hashEnv(names: readonly string[], env: NodeJS.ProcessEnv): Record<string, ContentHash> {
  const hashed = nameTable<ContentHash>();
  for (const name of names) {
    const value = env[name];
    hashed[name] = hashBytes(value === undefined ? `unset:${name}` : `set:${name}=${value}`);
  }
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
  return (
    recorded.kind === current.kind &&
    sameRecord(recorded.settings, current.settings) &&
    sameRecord(recorded.inputs, current.inputs) &&
    sameRecord(recorded.needs, current.needs) &&
    sameRecord(recorded.env, current.env)
  );
}

function sameRecord(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  for (const key of keys) if (a[key] !== b[key]) return false;
  return true;
}
