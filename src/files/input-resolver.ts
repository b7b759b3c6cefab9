import picomatch from 'picomatch';
import { DirectoryListings, type Tree, type Unaddressable } from './directory-listings.js';
import { GlobCache } from './glob-cache.js';
import type { Witness } from './witness.js';

/** Compiled matchers by their globs: 1,000 nodes often share a pattern, and compiling one costs more than matching. */
const matchers = new Map<string, (path: string) => boolean>();

/**
 * How spx matches globs everywhere: dotfiles too, and `*` and `**` across
 * any character of a name, a newline included (picomatch's `.` would stop
 * at one, silently leaving `a\nb.txt` out).
 */
export function globMatcher(globs: string | readonly string[]): (path: string) => boolean {
  // NUL cannot occur in a path, so it cannot make two lists of globs one key.
  const key = typeof globs === 'string' ? globs : globs.join('\0');
  let matcher = matchers.get(key);
  if (matcher === undefined) {
    matcher = picomatch(globs as string | string[], { dot: true, flags: 's' });
    matchers.set(key, matcher);
  }
  return matcher;
}

const scans = new Map<string, { isGlob: boolean; base: string }>();

/** picomatch's reading of a pattern (is it a glob, below which directory), once per pattern. */
function scan(pattern: string): { isGlob: boolean; base: string } {
  let scanned = scans.get(pattern);
  if (scanned === undefined) {
    const { isGlob, base } = picomatch.scan(pattern);
    scanned = { isGlob, base };
    scans.set(pattern, scanned);
  }
  return scanned;
}

/** Whether an input pattern is a glob (else a file it names, which must exist). */
export function isGlob(pattern: string): boolean {
  return pattern.startsWith('!') || scan(pattern).isGlob;
}

/** Hears why a file a pattern matched was left out: a warning line, and the path as matched. */
export type LeftOut = (message: string, matched: string) => void;

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
 * and each directory is listed once per build however many nodes glob in
 * it (DirectoryListings), so 1,000 nodes over 10,000 files cost one walk,
 * not 1,000.
 */
export class InputResolver {
  private readonly listings: DirectoryListings;
  private readonly memos = new Map<string, unknown>();
  /** What each glob matched in which tree: the same tree (nothing listed again) gives the same files. */
  private readonly matches = new Map<string, { tree: Tree; files: string[]; unaddressable: Unaddressable[] }>();

  constructor(
    private readonly root: string,
    /** Remembers expansions across builds; by default only within this one. */
    private readonly globCache: GlobCache = GlobCache.load(root, undefined),
    /** Hears every directory listing and file a build's judgement rests on (fresh-snapshot.ts). */
    readonly witness?: Witness,
  ) {
    this.listings = new DirectoryListings(root, witness);
    globCache.witness = witness;
  }

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
      const { isGlob, base } = scan(pattern);
      if (!isGlob) {
        files.add(pattern);
        continue;
      }
      for (const file of this.expand(pattern, base, unaddressable)) files.add(file);
    }
    const kept = (file: string): boolean => !exclusions.some((excluded) => excluded(file));
    for (const { lossy, shown } of new Set(unaddressable)) if (kept(lossy)) leftOut?.(notUtf8Message(shown), lossy);
    return (exclusions.length === 0 ? [...files] : [...files].filter(kept)).sort();
  }

  /** Called after a node wrote files that a later glob may match: listings are checked again before use. */
  invalidate(): void {
    this.listings.invalidate();
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
    const tree = this.listings.tree(base);
    let known = this.matches.get(glob);
    if (known?.tree !== tree) {
      const isMatch = globMatcher(glob);
      known = { tree, files: tree.files.filter((file) => isMatch(file)), unaddressable: tree.unaddressable.filter(({ lossy }) => isMatch(lossy)) };
      this.matches.set(glob, known);
    }
    const matched = known.files;
    unaddressable.push(...known.unaddressable);
    // A base that does not exist yet walked nothing whose change could be
    // seen: such an expansion is not remembered.
    if (tree.dirs.length > 0) this.globCache.remember(glob, tree.dirs, matched);
    return matched;
  }
}
