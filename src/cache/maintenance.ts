import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { hashBytes } from '../util/hash.js';
import type { CacheEntry } from './cache.js';
import type { LocalCache } from './local-cache.js';

export interface EntryInfo {
  fingerprint: string;
  /** Last use (the entry's mtime; lookups refresh it). */
  usedAtMs: number;
  bytes: number;
  blobs: string[];
}

export interface Inventory {
  entries: EntryInfo[];
  /** Blob hash → size. */
  blobs: Map<string, number>;
  bytes: number;
}

/** Temp files older than this were left by a killed process. */
const ABANDONED_TEMP_MS = 60 * 60 * 1000;

/** Everything in the cache directory, read once. */
export function takeInventory(cache: LocalCache): Inventory {
  const blobs = new Map<string, number>();
  for (const path of filesIn(join(cache.directory, 'blobs'))) {
    const name = path.slice(path.lastIndexOf('/') + 1);
    if (!name.includes('.tmp-')) blobs.set(name, statSync(path).size);
  }
  const entries: EntryInfo[] = [];
  for (const path of filesIn(join(cache.directory, 'entries'))) {
    if (!path.endsWith('.json')) continue;
    const stats = statSync(path);
    let entry: CacheEntry;
    try {
      entry = JSON.parse(readFileSync(path, 'utf8')) as CacheEntry;
    } catch {
      continue;
    }
    const fingerprint = path.slice(path.lastIndexOf('/') + 1, -'.json'.length);
    const hashes = Object.values(entry.outputs ?? {}).flatMap((output) => output.files.map((file) => file.hash));
    entries.push({ fingerprint, usedAtMs: stats.mtimeMs, bytes: stats.size, blobs: hashes });
  }
  const bytes = [...blobs.values()].reduce((a, b) => a + b, 0) + entries.reduce((a, e) => a + e.bytes, 0);
  return { entries, blobs, bytes };
}

export interface VerifyReport {
  blobsChecked: number;
  corruptBlobs: string[];
  /** Entries removed because a blob they name is missing or was corrupt. */
  brokenEntries: string[];
}

/** Rehashes every blob; removes corrupt blobs and the entries that would need them. */
export function verifyCache(cache: LocalCache): VerifyReport {
  const inventory = takeInventory(cache);
  const corruptBlobs: string[] = [];
  for (const hash of inventory.blobs.keys()) {
    if (hashBytes(readFileSync(cache.blobPath(hash))) !== hash) {
      rmSync(cache.blobPath(hash), { force: true });
      corruptBlobs.push(hash);
    }
  }
  const present = new Set([...inventory.blobs.keys()].filter((hash) => !corruptBlobs.includes(hash)));
  const brokenEntries: string[] = [];
  for (const entry of inventory.entries) {
    if (entry.blobs.some((hash) => !present.has(hash))) {
      cache.remove(entry.fingerprint);
      brokenEntries.push(entry.fingerprint);
    }
  }
  return { blobsChecked: inventory.blobs.size, corruptBlobs, brokenEntries };
}

export interface PruneOptions {
  /** Remove entries not used for longer than this. */
  maxAgeMs?: number;
  /** Then remove the least recently used entries until the cache fits. */
  maxBytes?: number;
  /** Fingerprints that spx.lock references: never removed. */
  keep: ReadonlySet<string>;
  now?: number;
}

export interface PruneReport {
  removedEntries: number;
  removedBlobs: number;
  freedBytes: number;
}

/**
 * Removes old or surplus entries, least recently used first, then every
 * blob no remaining entry names. What spx.lock references stays, so a
 * pruned cache still restores the current state of the project.
 */
export function pruneCache(cache: LocalCache, options: PruneOptions): PruneReport {
  const now = options.now ?? Date.now();
  const inventory = takeInventory(cache);
  const byAge = [...inventory.entries].sort((a, b) => a.usedAtMs - b.usedAtMs);
  const removed = new Set<string>();
  for (const entry of byAge) {
    if (options.keep.has(entry.fingerprint)) continue;
    if (options.maxAgeMs !== undefined && now - entry.usedAtMs > options.maxAgeMs) removed.add(entry.fingerprint);
  }
  if (options.maxBytes !== undefined) {
    // Blobs are shared: an entry's removal frees a blob only when it was
    // the last entry naming it, so count references as entries go.
    const references = new Map<string, number>();
    for (const entry of inventory.entries) {
      if (removed.has(entry.fingerprint)) continue;
      for (const hash of new Set(entry.blobs)) references.set(hash, (references.get(hash) ?? 0) + 1);
    }
    let bytes = inventory.entries.filter((e) => !removed.has(e.fingerprint)).reduce((a, e) => a + e.bytes, 0);
    for (const [hash, count] of references) if (count > 0) bytes += inventory.blobs.get(hash) ?? 0;
    for (const entry of byAge) {
      if (bytes <= options.maxBytes) break;
      if (options.keep.has(entry.fingerprint) || removed.has(entry.fingerprint)) continue;
      removed.add(entry.fingerprint);
      bytes -= entry.bytes;
      for (const hash of new Set(entry.blobs)) {
        const left = references.get(hash)! - 1;
        references.set(hash, left);
        if (left === 0) bytes -= inventory.blobs.get(hash) ?? 0;
      }
    }
  }
  for (const fingerprint of removed) cache.remove(fingerprint);

  const needed = new Set(inventory.entries.filter((e) => !removed.has(e.fingerprint)).flatMap((e) => e.blobs));
  let removedBlobs = 0;
  let freedBytes = inventory.entries.filter((e) => removed.has(e.fingerprint)).reduce((a, e) => a + e.bytes, 0);
  for (const [hash, size] of inventory.blobs) {
    if (needed.has(hash)) continue;
    rmSync(cache.blobPath(hash), { force: true });
    removedBlobs++;
    freedBytes += size;
  }
  removeAbandonedTemps(cache.directory, now);
  return { removedEntries: removed.size, removedBlobs, freedBytes };
}

function removeAbandonedTemps(directory: string, now: number): void {
  for (const path of [...filesIn(join(directory, 'blobs')), ...filesIn(join(directory, 'entries'))]) {
    if (path.includes('.tmp-') && now - statSync(path).mtimeMs > ABANDONED_TEMP_MS) rmSync(path, { force: true });
  }
}

function filesIn(directory: string): string[] {
  try {
    return readdirSync(directory, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => join(entry.parentPath, entry.name));
  } catch {
    return [];
  }
}
