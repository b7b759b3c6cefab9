import { lstatSync, readdirSync, rmSync, type Dirent } from 'node:fs';
import { join } from 'node:path';
import { hashBytes } from '../util/hash.js';
import { readRegularFile } from '../files/regular-file.js';
import type { LocalCache } from './local-cache.js';
import { checkEntry, HASH, type EntryCheck } from './verify-entry.js';

export interface EntryInfo {
  fingerprint: string;
  /** Last use (the entry's mtime; lookups refresh it). */
  usedAtMs: number;
  bytes: number;
  blobs: string[];
  /** Why no build would restore it (damaged, forged), when that is so. */
  problem?: string;
}

export interface Inventory {
  entries: EntryInfo[];
  /** Blob hash → size. */
  blobs: Map<string, number>;
  bytes: number;
}

/** Temp files older than this were left by a killed process. */
const ABANDONED_TEMP_MS = 60 * 60 * 1000;

const ENTRY = /^([0-9a-f]{64})\.json$/;
/** What writeFileAtomic and storeBlob leave when killed: the name, `.tmp-`, the pid and a counter. */
const TEMP = /^[0-9a-f]{64}(\.json)?\.tmp-\d+-[0-9a-f]+$/;

/**
 * Everything in the cache directory, read once. Only files in spx's own
 * layout and naming count (`blobs/ab/ab…`, `entries/ab/ab….json`): the
 * directory may be one the user pointed --cache-dir at, holding files of
 * their own that no command here may touch.
 */
export function takeInventory(cache: LocalCache): Inventory {
  const blobs = new Map<string, number>();
  for (const { name, size } of layoutFiles(cache.directory, 'blobs')) {
    if (HASH.test(name)) blobs.set(name, size);
  }
  const entries: EntryInfo[] = [];
  for (const { path, name, size, mtimeMs } of layoutFiles(cache.directory, 'entries')) {
    const fingerprint = ENTRY.exec(name)?.[1];
    if (fingerprint === undefined) continue;
    const read = readRegularFile(path);
    if (read === 'missing') continue;
    let check: EntryCheck;
    try {
      check = typeof read === 'string' ? { ok: false, problem: `it is ${read}` } : checkEntry(JSON.parse(read.toString('utf8')));
    } catch {
      check = { ok: false, problem: 'it is not JSON' };
    }
    const hashes = check.ok ? Object.values(check.entry.outputs).flatMap((output) => output.files.map((file) => file.hash)) : [];
    entries.push({ fingerprint, usedAtMs: mtimeMs, bytes: size, blobs: hashes, ...(check.ok ? {} : { problem: check.problem }) });
  }
  const bytes = [...blobs.values()].reduce((a, b) => a + b, 0) + entries.reduce((a, e) => a + e.bytes, 0);
  return { entries, blobs, bytes };
}

export interface VerifyReport {
  blobsChecked: number;
  corruptBlobs: string[];
  /** Entries removed because a blob they name is missing or was corrupt. */
  brokenEntries: string[];
  /** Entries removed because no build would restore them: malformed, or naming what no node may write. */
  badEntries: { fingerprint: string; problem: string }[];
}

/**
 * Rehashes every blob; removes corrupt blobs and the entries that would
 * need them, and entries a build would refuse (verify-entry.ts).
 */
export function verifyCache(cache: LocalCache): VerifyReport {
  const inventory = takeInventory(cache);
  const corruptBlobs: string[] = [];
  for (const hash of inventory.blobs.keys()) {
    const read = readRegularFile(cache.blobPath(hash));
    if (read === 'missing') continue;
    if (typeof read === 'string' || hashBytes(read) !== hash) {
      rmSync(cache.blobPath(hash), { force: true });
      corruptBlobs.push(hash);
    }
  }
  const present = new Set([...inventory.blobs.keys()].filter((hash) => !corruptBlobs.includes(hash)));
  const brokenEntries: string[] = [];
  const badEntries: VerifyReport['badEntries'] = [];
  for (const entry of inventory.entries) {
    if (entry.problem !== undefined) {
      cache.remove(entry.fingerprint);
      badEntries.push({ fingerprint: entry.fingerprint, problem: entry.problem });
    } else if (entry.blobs.some((hash) => !present.has(hash))) {
      cache.remove(entry.fingerprint);
      brokenEntries.push(entry.fingerprint);
    }
  }
  return { blobsChecked: inventory.blobs.size, corruptBlobs, brokenEntries, badEntries };
}

export interface PruneOptions {
  /** Remove entries not used for longer than this. */
  maxAgeMs?: number;
  /** Then remove the least recently used entries until the cache fits. */
  maxBytes?: number;
  /** Fingerprints that spx.lock references: never removed. */
  keep: ReadonlySet<string>;
  /** Blobs that spx.lock references outside any entry (approved outputs): never removed. */
  keepBlobs?: ReadonlySet<string>;
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
    if (needed.has(hash) || options.keepBlobs?.has(hash)) continue;
    rmSync(cache.blobPath(hash), { force: true });
    removedBlobs++;
    freedBytes += size;
  }
  removeAbandonedTemps(cache.directory, now);
  return { removedEntries: removed.size, removedBlobs, freedBytes };
}

function removeAbandonedTemps(directory: string, now: number): void {
  for (const { path, name, mtimeMs } of [...layoutFiles(directory, 'blobs'), ...layoutFiles(directory, 'entries')]) {
    if (TEMP.test(name) && now - mtimeMs > ABANDONED_TEMP_MS) rmSync(path, { force: true });
  }
}

interface LayoutFile {
  path: string;
  name: string;
  size: number;
  mtimeMs: number;
}

/**
 * The regular files of `blobs/` or `entries/` in their two-character shard,
 * named for it; not descending into anything else, nor through symlinks.
 */
function layoutFiles(directory: string, part: 'blobs' | 'entries'): LayoutFile[] {
  const files: LayoutFile[] = [];
  for (const shard of entriesOf(join(directory, part))) {
    if (!shard.isDirectory() || !/^[0-9a-f]{2}$/.test(shard.name)) continue;
    for (const file of entriesOf(join(directory, part, shard.name))) {
      if (!file.isFile() || !file.name.startsWith(shard.name)) continue;
      const path = join(directory, part, shard.name, file.name);
      // Another process may remove a file between the listing and this.
      const stats = lstatSync(path, { throwIfNoEntry: false });
      if (stats?.isFile()) files.push({ path, name: file.name, size: stats.size, mtimeMs: stats.mtimeMs });
    }
  }
  return files;
}

function entriesOf(directory: string): Dirent[] {
  try {
    return readdirSync(directory, { withFileTypes: true });
  } catch {
    return [];
  }
}
