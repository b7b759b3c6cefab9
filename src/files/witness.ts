import type { Stats } from 'node:fs';
import type { ContentHash } from '../util/hash.js';

/** A file as the build saw it: [size, mtimeMs, ctimeMs, inode]. */
export type FileStamp = [size: number, mtimeMs: number, ctimeMs: number, ino: number];

/** A directory as the build saw it: [mtimeMs, ctimeMs, inode] (its entries are what can change). */
export type DirectoryStamp = [mtimeMs: number, ctimeMs: number, ino: number];

/**
 * Everything one build's judgement rested on: every file whose content it
 * took from the stat cache (or hashed) and every directory whose listing it
 * used, each with the stat fields it had when the build looked. If all are
 * the same later, the same judgement would follow (fresh-snapshot.ts).
 *
 * Some judgements rest on more than files and listings (git's view of what
 * is ignored, a command's output, a whole directory output walked at once);
 * the build says so with `cannotVouch`, and the snapshot is not written.
 */
export class Witness {
  readonly files = new Map<string, FileStamp>();
  /** The content hashes of the files the stat cache answered for (not of spx.yaml or spx.lock). */
  readonly hashes = new Map<string, ContentHash>();
  readonly directories = new Map<string, DirectoryStamp>();
  /** Paths whose absence mattered (a journal no killed build left behind). */
  readonly absent = new Set<string>();
  /** Why this build's verdict cannot be replayed from stats, if it cannot. */
  doubt: string | undefined;

  /** A path relative to the project root (or absolute) and what stat said; anything but a regular file casts doubt. */
  sawFile(path: string, stats: Stats | undefined, hash?: ContentHash): void {
    if (!stats?.isFile()) {
      this.cannotVouch(`${path} is not a regular file`);
      return;
    }
    this.files.set(path, [stats.size, stats.mtimeMs, stats.ctimeMs, stats.ino]);
    if (hash !== undefined) this.hashes.set(path, hash);
  }

  /** A directory (root-relative, '' for the root) whose listing was used; a missing one casts doubt. */
  sawDirectory(path: string, stamp: DirectoryStamp | undefined): void {
    if (stamp === undefined) this.cannotVouch(`directory ${path || '.'} is missing`);
    else this.directories.set(path, stamp);
  }

  sawNothingAt(path: string): void {
    this.absent.add(path);
  }

  cannotVouch(why: string): void {
    this.doubt ??= why;
  }
}
