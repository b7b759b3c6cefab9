import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import picomatch from 'picomatch';

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
  private readonly listings = new Map<string, string[]>();
  private readonly memos = new Map<string, unknown>();

  constructor(private readonly root: string) {}

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
      const isMatch = picomatch(pattern, { dot: true });
      for (const file of this.listTree(scan.base)) {
        if (isMatch(file)) files.add(file);
      }
    }
    const kept = exclusions.length === 0 ? [...files] : [...files].filter((f) => !exclusions.some((excluded) => excluded(f)));
    return kept.sort();
  }

  /** Forgets directory listings; called after a node wrote files that a later glob may match. */
  invalidate(): void {
    this.listings.clear();
    this.memos.clear();
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

  /** Every file below `base` (relative to the root), as root-relative posix paths. */
  private listTree(base: string): string[] {
    const cached = this.listings.get(base);
    if (cached) return cached;
    const found: string[] = [];
    this.walk(base, found);
    this.listings.set(base, found);
    return found;
  }

  private walk(directory: string, found: string[]): void {
    let entries;
    try {
      entries = readdirSync(join(this.root, directory), { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const relative = directory === '' ? entry.name : `${directory}/${entry.name}`;
      if (entry.isDirectory()) {
        if (!NEVER_SEARCHED.has(entry.name)) this.walk(relative, found);
      } else if (entry.isFile() || entry.isSymbolicLink()) {
        found.push(relative);
      }
    }
  }
}
