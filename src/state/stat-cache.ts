import { readFileSync, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { hashBytes, type ContentHash } from '../util/hash.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { noteRebuilt } from '../util/note.js';
import { seal, unsealJson } from '../util/sealed.js';
import { isRecord } from '../util/shape.js';
import { withoutPrototype } from '../util/name-table.js';
import type { Witness } from '../files/witness.js';

/** 2: sealed (see sealed.ts). */
const FORMAT = 2;

/** [size, mtimeMs, ctimeMs, inode, hash] — an array keeps the file small and quick to parse. */
type Entry = [number, number, number, number, ContentHash];

interface StatCacheFile {
  format: number;
  entries: Record<string, Entry>;
}

/**
 * Remembers the content hash of each file together with the stat fields that
 * change whenever its content can have changed, so that a no-op build
 * `stat`s its files but reads none of them (ninja's trick; wireit re-reads
 * everything).
 *
 * The racy-file guard is git's: a file whose mtime or ctime is not older than
 * the moment the cache was written may have been changed again within the
 * same timestamp tick after it was hashed, so its entry is not trusted and
 * the file is hashed again.
 */
export class StatCache {
  /** A plain object, as parsed: converting 10,000 entries to a Map costs a no-op build milliseconds. */
  private readonly entries: Record<string, Entry>;
  private readonly trustedBefore: number;
  private dirty = false;
  /** Hears every file this cache answers for (a build that may leave a fresh snapshot). */
  witness: Witness | undefined;

  private constructor(
    private readonly root: string,
    private readonly file: string,
    entries: Record<string, Entry>,
    trustedBefore: number,
  ) {
    this.entries = entries;
    this.trustedBefore = trustedBefore;
  }

  static load(root: string, stateDir: string): StatCache {
    const file = join(stateDir, 'stat-cache.json');
    let text: string;
    let trustedBefore: number;
    try {
      trustedBefore = statSync(file).mtimeMs;
      text = readFileSync(file, 'utf8');
    } catch {
      // No cache yet: every file is hashed once.
      return new StatCache(root, file, Object.create(null) as Record<string, Entry>, 0);
    }
    const read = parseStatCache(text);
    if (typeof read === 'string') noteRebuilt(file, read);
    // Another format, or another account's seal, is silently started over, like a missing cache.
    if (typeof read !== 'object' || read.format !== FORMAT) return new StatCache(root, file, Object.create(null) as Record<string, Entry>, 0);
    return new StatCache(root, file, withoutPrototype(read.entries), trustedBefore);
  }

  /**
   * The content hash of a file given relative to the project root (or
   * absolute, for an input outside the project), or
   * undefined when it does not exist (or is not a regular file).
   */
  hashFile(relativePath: string): ContentHash | undefined {
    // Concatenation, not path.join: paths are already normalised, and this
    // runs for every input of every node on every build.
    const absolute = relativePath.startsWith('/') ? relativePath : `${this.root}/${relativePath}`;
    const stats = statSync(absolute, { throwIfNoEntry: false });
    if (!stats?.isFile()) {
      this.witness?.sawFile(relativePath, stats);
      return undefined;
    }
    const known = Object.hasOwn(this.entries, relativePath) ? this.entries[relativePath] : undefined;
    if (known && this.matches(known, stats) && stats.mtimeMs < this.trustedBefore && stats.ctimeMs < this.trustedBefore) {
      this.witness?.sawFile(relativePath, stats, known[4]);
      return known[4];
    }
    const hash = hashBytes(readFileSync(absolute));
    // A file rewritten while it was being read would pair old stats with new
    // bytes; only a stable file is remembered.
    const after = statSync(absolute, { throwIfNoEntry: false });
    if (after && this.sameStats(stats, after)) {
      this.entries[relativePath] = [stats.size, stats.mtimeMs, stats.ctimeMs, stats.ino, hash];
      this.dirty = true;
    }
    // Seen as stat found it before the read: if it changed during the read, the snapshot will not match it.
    this.witness?.sawFile(relativePath, stats, hash);
    return hash;
  }

  /** Drops what is known of a path, e.g. after spx itself removed or replaced it. */
  forget(relativePath: string): void {
    if (Object.hasOwn(this.entries, relativePath)) {
      delete this.entries[relativePath];
      this.dirty = true;
    }
  }

  save(): void {
    if (!this.dirty) return;
    const out: StatCacheFile = { format: FORMAT, entries: this.entries };
    try {
      const sealed = seal(JSON.stringify(out));
      if (sealed === undefined) return;
      writeFileAtomic(this.file, sealed);
      this.dirty = false;
    } catch {
      // The stat cache only saves time; failing to write it loses nothing.
    }
  }

  private matches(entry: Entry, stats: Stats): boolean {
    return entry[0] === stats.size && entry[1] === stats.mtimeMs && entry[2] === stats.ctimeMs && entry[3] === stats.ino;
  }

  private sameStats(a: Stats, b: Stats): boolean {
    return a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs && a.ino === b.ino;
  }
}

/**
 * The cache as this account's spx wrote it (sealed.ts), or why not. The seal
 * vouches for every entry, so none is checked one by one: a forged hash
 * would otherwise pass for the content of a file.
 */
function parseStatCache(text: string): StatCacheFile | string | undefined {
  const opened = unsealJson(text);
  if ('problem' in opened) return opened.problem;
  const parsed = opened.value;
  if (!isRecord(parsed) || typeof parsed.format !== 'number') return 'has no format number';
  if (parsed.format !== FORMAT) return { format: parsed.format, entries: {} };
  if (!isRecord(parsed.entries)) return 'has no "entries" object';
  return { format: FORMAT, entries: parsed.entries as Record<string, Entry> };
}
