import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic-write.js';
import { noteRebuilt } from '../util/note.js';
import { seal, unsealJson } from '../util/sealed.js';
import { isRecord } from '../util/shape.js';
import { withoutPrototype } from '../util/name-table.js';
import type { StampedDirectory } from './directory-listings.js';
import type { Witness } from './witness.js';

/** 2: sealed (see sealed.ts), and a walked directory is stamped with its ctime and inode too, not its mtime alone. */
const FORMAT = 2;

/**
 * What a walked directory looked like: [mtimeMs, ctimeMs, inode].
 *
 * The mtime alone can be set back (`touch -d`, `cp -p`, an archive
 * extracted over the tree) after a file was added, and the listing would
 * pass for unchanged. The ctime cannot be set from user space and changes
 * with the mtime and with every `touch`; the inode changes when the
 * directory was removed and made anew.
 */
type Stamp = [number, number, number];

/** What one glob matched, and the directories whose listings that depended on. */
interface Expansion {
  /** [directory relative to the root, ...its stamp] for every directory walked. */
  dirs: [string, ...Stamp][];
  files: string[];
}

interface GlobCacheFile {
  format: number;
  globs: Record<string, Expansion>;
}

/**
 * Remembers what each input glob matched, so that a no-op build neither
 * lists directories nor matches thousands of paths: it `stat`s the
 * directories the glob walked. A directory's mtime and ctime change whenever
 * an entry is added, removed or renamed in it, which is exactly when a
 * listing can change; a file's own edits do not matter here (the stat cache
 * sees those).
 *
 * The racy-directory guard is the stat cache's: a directory changed in the
 * same timestamp tick as the cache was written is not trusted.
 */
export class GlobCache {
  private readonly stamps = new Map<string, Stamp | undefined>();
  private dirty = false;
  /** Hears every directory whose stamp vouched for an expansion. */
  witness: Witness | undefined;

  private constructor(
    private readonly root: string,
    private readonly file: string | undefined,
    private readonly globs: Record<string, Expansion>,
    private readonly trustedBefore: number,
  ) {}

  /** Without a state directory (tests, read-only use), nothing is remembered across builds. */
  static load(root: string, stateDir: string | undefined): GlobCache {
    const empty = (file: string | undefined): GlobCache => new GlobCache(root, file, Object.create(null) as Record<string, Expansion>, 0);
    if (stateDir === undefined) return empty(undefined);
    const file = join(stateDir, 'glob-cache.json');
    let text: string;
    let trustedBefore: number;
    try {
      trustedBefore = statSync(file).mtimeMs;
      text = readFileSync(file, 'utf8');
    } catch {
      // No cache yet: every glob is expanded once.
      return empty(file);
    }
    const read = parseGlobCache(text);
    if (typeof read === 'string') noteRebuilt(file, read);
    // Another format, or another account's seal, is silently started over, like a missing cache.
    if (typeof read !== 'object' || read.format !== FORMAT) return empty(file);
    return new GlobCache(root, file, withoutPrototype(read.globs), trustedBefore);
  }

  /** The files a glob matched last time, if no directory it walked has changed since. */
  lookup(glob: string): string[] | undefined {
    const expansion = this.globs[glob];
    if (!expansion) return undefined;
    for (const [dir, mtime, ctime, inode] of expansion.dirs) {
      const now = this.stampOf(dir);
      if (now === undefined || now[0] !== mtime || now[1] !== ctime || now[2] !== inode) return undefined;
      if (now[0] >= this.trustedBefore || now[1] >= this.trustedBefore) return undefined;
    }
    return expansion.files;
  }

  /**
   * `dirs` carry the stamps taken before each was listed: a directory
   * changed since then will not match them next time, and is listed again.
   */
  remember(glob: string, dirs: readonly StampedDirectory[], files: readonly string[]): void {
    this.globs[glob] = { dirs: [...dirs], files: [...files] };
    this.dirty = true;
  }

  /** Forgets directory stats taken in this build: a node has just written files. */
  invalidate(): void {
    this.stamps.clear();
  }

  save(): void {
    if (!this.dirty || this.file === undefined) return;
    const out: GlobCacheFile = { format: FORMAT, globs: this.globs };
    try {
      const sealed = seal(JSON.stringify(out));
      if (sealed === undefined) return;
      writeFileAtomic(this.file, sealed);
      this.dirty = false;
    } catch {
      // Only saves time.
    }
  }

  private stampOf(dir: string): Stamp | undefined {
    if (this.stamps.has(dir)) return this.stamps.get(dir);
    const stats = statSync(dir === '' ? this.root : `${this.root}/${dir}`, { throwIfNoEntry: false });
    const stamp: Stamp | undefined = stats?.isDirectory() ? [stats.mtimeMs, stats.ctimeMs, stats.ino] : undefined;
    this.stamps.set(dir, stamp);
    this.witness?.sawDirectory(dir, stamp);
    return stamp;
  }
}

/**
 * The cache as this account's spx wrote it (sealed.ts), or why not. The seal
 * vouches for every expansion: a forged one could otherwise add any file,
 * one outside the project say, to a node's inputs or a context bundle.
 */
function parseGlobCache(text: string): GlobCacheFile | string | undefined {
  const opened = unsealJson(text);
  if ('problem' in opened) return opened.problem;
  const parsed = opened.value;
  if (!isRecord(parsed) || typeof parsed.format !== 'number') return 'has no format number';
  if (parsed.format !== FORMAT) return { format: parsed.format, globs: {} };
  if (!isRecord(parsed.globs)) return 'has no "globs" object';
  return { format: FORMAT, globs: parsed.globs as Record<string, Expansion> };
}
