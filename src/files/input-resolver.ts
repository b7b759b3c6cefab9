import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import picomatch from 'picomatch';
import { GlobCache } from './glob-cache.js';

/** Directories never searched by a glob: spx's own state and git's. */
const NEVER_SEARCHED = new Set(['.git', '.spx']);

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
  private readonly listings = new Map<string, { files: string[]; dirs: string[] }>();
  private readonly memos = new Map<string, unknown>();

  constructor(
    private readonly root: string,
    /** Remembers expansions across builds; by default only within this one. */
    private readonly globCache: GlobCache = GlobCache.load(root, undefined),
  ) {}

  resolve(patterns: readonly string[]): string[] {
    const files = new Set<string>();
    const exclusions: ((path: string) => boolean)[] = [];
    for (const pattern of patterns) {
      if (pattern.startsWith('!')) {
        exclusions.push(picomatch(pattern.slice(1), { dot: true }));
        continue;
      }
      const scan = picomatch.scan(pattern);
      if (!scan.isGlob) {
        files.add(pattern);
        continue;
      }
      for (const file of this.expand(pattern, scan.base)) files.add(file);
    }
    const kept = exclusions.length === 0 ? [...files] : [...files].filter((f) => !exclusions.some((excluded) => excluded(f)));
    return kept.sort();
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
  private expand(glob: string, base: string): string[] {
    const remembered = this.globCache.lookup(glob);
    if (remembered) return remembered;
    const isMatch = picomatch(glob, { dot: true });
    const tree = this.listTree(base);
    const matched = tree.files.filter((file) => isMatch(file));
    // A base that does not exist yet walked nothing whose change could be
    // seen: such an expansion is not remembered.
    if (tree.dirs.length > 0) this.globCache.remember(glob, tree.dirs, matched);
    return matched;
  }

  /** Every file (and directory walked) below `base`, as root-relative posix paths. */
  private listTree(base: string): { files: string[]; dirs: string[] } {
    const cached = this.listings.get(base);
    if (cached) return cached;
    const tree = { files: [] as string[], dirs: [] as string[] };
    this.walk(base, tree);
    this.listings.set(base, tree);
    return tree;
  }

  private walk(directory: string, tree: { files: string[]; dirs: string[] }): void {
    let entries;
    try {
      entries = readdirSync(join(this.root, directory), { withFileTypes: true });
    } catch {
      return;
    }
    tree.dirs.push(directory);
    for (const entry of entries) {
      const relative = directory === '' ? entry.name : `${directory}/${entry.name}`;
      if (entry.isDirectory()) {
        if (!NEVER_SEARCHED.has(entry.name)) this.walk(relative, tree);
      } else if (entry.isFile() || entry.isSymbolicLink()) {
        tree.files.push(relative);
      }
    }
  }
}
