import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic-write.js';

const FORMAT = 1;

/** What one glob matched, and the directories whose listings that depended on. */
interface Expansion {
  /** [directory relative to the root, its mtimeMs] for every directory walked. */
  dirs: [string, number][];
  files: string[];
}

interface GlobCacheFile {
  format: number;
  globs: Record<string, Expansion>;
}

/**
 * Remembers what each input glob matched, so that a no-op build neither
 * lists directories nor matches thousands of paths: it `stat`s the
 * directories the glob walked. A directory's mtime changes whenever an entry
 * is added, removed or renamed in it, which is exactly when a listing can
 * change; a file's own edits do not matter here (the stat cache sees those).
 *
 * The racy-directory guard is the stat cache's: a directory changed in the
 * same timestamp tick as the cache was written is not trusted.
 */
export class GlobCache {
  private readonly dirMtimes = new Map<string, number | undefined>();
  private dirty = false;

  private constructor(
    private readonly root: string,
    private readonly file: string | undefined,
    private readonly globs: Record<string, Expansion>,
    private readonly trustedBefore: number,
  ) {}

  /** Without a state directory (tests, read-only use), nothing is remembered across builds. */
  static load(root: string, stateDir: string | undefined): GlobCache {
    if (stateDir === undefined) return new GlobCache(root, undefined, {}, 0);
    const file = join(stateDir, 'glob-cache.json');
    try {
      const trustedBefore = statSync(file).mtimeMs;
      const parsed = JSON.parse(readFileSync(file, 'utf8')) as GlobCacheFile;
      if (parsed.format === FORMAT) return new GlobCache(root, file, parsed.globs, trustedBefore);
    } catch {
      // No cache yet: every glob is expanded once.
    }
    return new GlobCache(root, file, {}, 0);
  }

  /** The files a glob matched last time, if no directory it walked has changed since. */
  lookup(glob: string): string[] | undefined {
    const expansion = this.globs[glob];
    if (!expansion) return undefined;
    for (const [dir, mtime] of expansion.dirs) {
      const now = this.mtimeOf(dir);
      if (now !== mtime || now >= this.trustedBefore) return undefined;
    }
    return expansion.files;
  }

  remember(glob: string, dirs: readonly string[], files: readonly string[]): void {
    const stamped: [string, number][] = [];
    for (const dir of dirs) {
      const mtime = this.mtimeOf(dir);
      // A directory gone between the walk and now: do not remember a listing of it.
      if (mtime === undefined) return;
      stamped.push([dir, mtime]);
    }
    this.globs[glob] = { dirs: stamped, files: [...files] };
    this.dirty = true;
  }

  /** Forgets directory stats taken in this build: a node has just written files. */
  invalidate(): void {
    this.dirMtimes.clear();
  }

  save(): void {
    if (!this.dirty || this.file === undefined) return;
    const out: GlobCacheFile = { format: FORMAT, globs: this.globs };
    try {
      writeFileAtomic(this.file, JSON.stringify(out));
      this.dirty = false;
    } catch {
      // Only saves time.
    }
  }

  private mtimeOf(dir: string): number | undefined {
    if (this.dirMtimes.has(dir)) return this.dirMtimes.get(dir);
    const stats = statSync(dir === '' ? this.root : `${this.root}/${dir}`, { throwIfNoEntry: false });
    const mtime = stats?.isDirectory() ? stats.mtimeMs : undefined;
    this.dirMtimes.set(dir, mtime);
    return mtime;
  }
}
