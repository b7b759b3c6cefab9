import { readFileSync, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { hashBytes, type ContentHash } from '../util/hash.js';
import { writeFileAtomic } from '../util/atomic-write.js';

const FORMAT = 1;

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
    try {
      const trustedBefore = statSync(file).mtimeMs;
      const parsed = JSON.parse(readFileSync(file, 'utf8')) as StatCacheFile;
      if (parsed.format === FORMAT) {
        return new StatCache(root, file, parsed.entries, trustedBefore);
      }
    } catch {
      // No cache yet, or an unreadable one: every file is hashed once more.
    }
    return new StatCache(root, file, {}, 0);
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
    if (!stats?.isFile()) return undefined;
    const known = Object.hasOwn(this.entries, relativePath) ? this.entries[relativePath] : undefined;
    if (known && this.matches(known, stats) && stats.mtimeMs < this.trustedBefore && stats.ctimeMs < this.trustedBefore) {
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
      writeFileAtomic(this.file, JSON.stringify(out));
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
