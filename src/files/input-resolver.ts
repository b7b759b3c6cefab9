import { readdirSync, type Dirent } from 'node:fs';
import { join } from 'node:path';
import picomatch from 'picomatch';
import { decodeName, displayName } from './file-name.js';
import { GlobCache } from './glob-cache.js';

/** Directories never searched by a glob: spx's own state and git's. */
const NEVER_SEARCHED = new Set(['.git', '.spx']);

/**
 * How spx matches globs everywhere: dotfiles too, and `*` and `**` across
 * any character of a name, a newline included (picomatch's `.` would stop
 * at one, silently leaving `a\nb.txt` out).
 */
export function globMatcher(globs: string | readonly string[]): (path: string) => boolean {
  return picomatch(globs as string | string[], { dot: true, flags: 's' });
}

/** Whether an input pattern is a glob (else a file it names, which must exist). */
export function isGlob(pattern: string): boolean {
  return pattern.startsWith('!') || picomatch.scan(pattern).isGlob;
}

/** Hears why a file a pattern matched was left out: a warning line, and the path as matched. */
export type LeftOut = (message: string, matched: string) => void;

/** A file a walk found but no string path can name: its name (or a directory's on the way) is not UTF-8. */
interface Unaddressable {
  /** The name as matched: invalid bytes read as U+FFFD. */
  lossy: string;
  /** The name as printed, invalid bytes escaped. */
  shown: string;
}

interface Tree {
  files: string[];
  dirs: string[];
  unaddressable: Unaddressable[];
}

/** The warning for a name that is not UTF-8 (selection and inputs say it alike). */
export function notUtf8Message(shown: string): string {
  return `left out ${shown}: its name is not valid UTF-8, which spx cannot address (rename it to include it)`;
}

/**
 * Expands a node's input patterns (files or picomatch globs, relative to the
 * project root; a leading `!` excludes) into the sorted list of files they
 * name. A plain path is kept even when missing, so that the node can say so.
 *
 * A glob is matched only below its static base (`src/**\/*.ts` walks `src/`),
 * and each directory tree is listed once per build however many nodes glob
 * in it, so 1,000 nodes over 10,000 files cost one walk, not 1,000.
 */
export class InputResolver {
  private readonly listings = new Map<string, Tree>();
  private readonly memos = new Map<string, unknown>();

  constructor(
    private readonly root: string,
    /** Remembers expansions across builds; by default only within this one. */
    private readonly globCache: GlobCache = GlobCache.load(root, undefined),
  ) {}

  /**
   * A file whose name is not UTF-8 cannot be hashed or read by name: it is
   * left out, and `leftOut` hears of it when the directory is listed (not
   * when the glob cache answers: the node is then fresh or stale for other
   * reasons, and was told before).
   */
  resolve(patterns: readonly string[], leftOut?: LeftOut): string[] {
    const files = new Set<string>();
    const unaddressable: Unaddressable[] = [];
    const exclusions: ((path: string) => boolean)[] = [];
    for (const pattern of patterns) {
      if (pattern.startsWith('!')) {
        exclusions.push(globMatcher(pattern.slice(1)));
        continue;
      }
      const scan = picomatch.scan(pattern);
      if (!scan.isGlob) {
        files.add(pattern);
        continue;
      }
      for (const file of this.expand(pattern, scan.base, unaddressable)) files.add(file);
    }
    const kept = (file: string): boolean => !exclusions.some((excluded) => excluded(file));
    for (const { lossy, shown } of new Set(unaddressable)) if (kept(lossy)) leftOut?.(notUtf8Message(shown), lossy);
    return (exclusions.length === 0 ? [...files] : [...files].filter(kept)).sort();
  }

  /** Forgets directory listings; called after a node wrote files that a later glob may match. */
  invalidate(): void {
    this.listings.clear();
    this.memos.clear();
    this.globCache.invalidate();
  }

  /** Writes what was expanded, for the next build. */
  save(): void {
    this.globCache.save();
  }

  /**
   * A value derived from the project's files (git's list of them, say),
   * computed once per build like the directory listings and forgotten with them.
   */
  memo<T>(key: string, compute: () => T): T {
    if (this.memos.has(key)) return this.memos.get(key) as T;
    const value = compute();
    this.memos.set(key, value);
    return value;
  }

  /** The files below `base` that a glob matches: remembered, or walked and matched. */
  private expand(glob: string, base: string, unaddressable: Unaddressable[]): string[] {
    const remembered = this.globCache.lookup(glob);
    if (remembered) return remembered;
    const isMatch = globMatcher(glob);
    const tree = this.listTree(base);
    const matched = tree.files.filter((file) => isMatch(file));
    unaddressable.push(...tree.unaddressable.filter(({ lossy }) => isMatch(lossy)));
    // A base that does not exist yet walked nothing whose change could be
    // seen: such an expansion is not remembered.
    if (tree.dirs.length > 0) this.globCache.remember(glob, tree.dirs, matched);
    return matched;
  }

  /** Every file (and directory walked) below `base`, as root-relative posix paths. */
  private listTree(base: string): Tree {
    const cached = this.listings.get(base);
    if (cached) return cached;
    const tree: Tree = { files: [], dirs: [], unaddressable: [] };
    this.walk(base, tree);
    this.listings.set(base, tree);
    return tree;
  }

  private walk(directory: string, tree: Tree): void {
    let entries: Dirent[];
    try {
      entries = readdirSync(join(this.root, directory), { withFileTypes: true });
    } catch {
      return;
    }
    tree.dirs.push(directory);
    // U+FFFD in a name is rare; only then is the directory listed again as
    // bytes, to tell a real U+FFFD from bytes that are not UTF-8.
    if (entries.some((entry) => entry.name.includes('\uFFFD'))) return this.walkBytes(directory, tree);
    for (const entry of entries) this.add(entry, entry.name, directory, tree);
  }

  private walkBytes(directory: string, tree: Tree): void {
    let entries: Dirent<Buffer>[];
    try {
      entries = readdirSync(join(this.root, directory), { withFileTypes: true, encoding: 'buffer' });
    } catch {
      return;
    }
    const prefix = directory === '' ? '' : `${directory}/`;
    for (const entry of entries) {
      const name = decodeName(entry.name);
      if (name !== undefined) {
        this.add(entry, name, directory, tree);
      } else if (entry.isFile() || entry.isSymbolicLink() || entry.isDirectory()) {
        // Nothing below such a directory can be named either: a glob matching it names the directory.
        const shown = displayName(Buffer.concat([Buffer.from(prefix), entry.name]));
        tree.unaddressable.push({ lossy: prefix + entry.name.toString('utf8'), shown: entry.isDirectory() ? `${shown} (a directory)` : shown });
      }
    }
  }

  private add(entry: Dirent<string | Buffer>, name: string, directory: string, tree: Tree): void {
    const relative = directory === '' ? name : `${directory}/${name}`;
    if (entry.isDirectory()) {
      if (!NEVER_SEARCHED.has(name)) this.walk(relative, tree);
    } else if (entry.isFile() || entry.isSymbolicLink()) {
      tree.files.push(relative);
    }
  }
}
