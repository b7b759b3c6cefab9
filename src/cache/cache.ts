import type { ContentHash, Fingerprint } from '../util/hash.js';

/** Bump when the entry layout changes; entries of another format are misses. */
export const CACHE_FORMAT = 1;

/** One file of a node's outputs, as stored: no absolute path, no mtime. */
export interface CachedFile {
  /** Relative to the project root, posix separators. */
  path: string;
  hash: ContentHash;
  /** Permission bits (the executable bit matters for scripts). */
  mode: number;
}

/** What a node's run produced and what producing it cost, keyed by its fingerprint. */
export interface CacheEntry {
  format: number;
  /** Declared output → its content hash (as in spx.lock) and the files it consists of. */
  outputs: Record<string, { hash: ContentHash; files: CachedFile[] }>;
  /** What the run cost, so that a hit can say what it saved. */
  cost: { seconds: number };
  /** What the run measured, restored into spx.lock with the outputs. */
  metrics?: Record<string, number | string>;
}

/** Restored: the entry as checked (modes, metrics), to record; or refused, and why. */
export type RestoreResult = { ok: true; entry: CacheEntry } | { ok: false; problem: string };

/** What a further tier had: the entry, now in this cache; or nothing, and maybe why. */
export type FetchResult = { entry: CacheEntry; problem?: undefined } | { entry: undefined; problem?: string };

/**
 * A store of node outputs keyed by fingerprint: the local directory
 * (local-cache.ts), alone or in front of a remote (tiered-cache.ts).
 */
export interface Cache {
  /** A human-readable location, for messages. */
  readonly location: string;
  lookup(fingerprint: Fingerprint): CacheEntry | undefined;
  /**
   * Writes the entry's files into the project after checking all of it
   * (verify-entry.ts): it lists exactly the node's `declared` outputs, each
   * blob is a regular file matching its hash, no path leads through a
   * symlink. A refused entry is removed and reported, and nothing of it is
   * written.
   */
  restore(fingerprint: Fingerprint, entry: CacheEntry, root: string, declared: readonly string[]): RestoreResult;
  store(fingerprint: Fingerprint, entry: CacheEntry, root: string): void;
  /** Starts fetching an entry a node will soon ask for, in the background (remote tiers). */
  prefetch?(fingerprint: Fingerprint, outputs: readonly string[]): void;
  /**
   * When lookup misses: asks a further tier (the remote cache), and brings
   * what it has into this cache, verified. `outputs` are the node's declared
   * outputs: an entry for other paths is refused. Never throws: a tier that
   * fails is a miss.
   */
  fetch?(fingerprint: Fingerprint, outputs: readonly string[]): Promise<FetchResult>;
  /** Resolves once the transfers store started in the background (uploads) have ended. */
  flush?(): Promise<void>;
}
