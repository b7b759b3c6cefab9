import { lstatSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { isDirectoryOutput, listFilesBelow } from '../files/output-hash.js';

/** Each file of a node's declared outputs, by path, with a stamp that changes whenever the file is written. */
export type OutputSnapshot = ReadonlyMap<string, string>;

/** Taken just before a node runs, so that an interrupted run can tell what it wrote. */
export function snapshotOutputs(root: string, declared: readonly string[]): OutputSnapshot {
  const snapshot = new Map<string, string>();
  for (const output of declared) {
    for (const path of filesOf(root, output)) {
      const stamp = stampOf(root, path);
      if (stamp !== undefined) snapshot.set(path, stamp);
    }
  }
  return snapshot;
}

/**
 * After an interrupted run, removes what it wrote, as make deletes the
 * target of a recipe it interrupted. Left in place, a half-written output
 * is one no record accounts for: the next build would take it for a
 * human's edit, back it up and say "edited by hand". What the run did not
 * touch stays. Returns the declared outputs that lost something.
 *
 * A recorded node's directory output held only what spx wrote (hand edits
 * were backed up before the run): half old and half new, it is neither, and
 * goes whole. A directory of unknown origin loses only the files the run wrote.
 */
export function removeWhatTheRunWrote(root: string, declared: readonly string[], before: OutputSnapshot, recorded: boolean): string[] {
  const touched: string[] = [];
  for (const output of declared) {
    const written = filesOf(root, output).filter((path) => {
      const stamp = stampOf(root, path);
      return stamp !== undefined && stamp !== before.get(path);
    });
    if (written.length === 0) continue;
    touched.push(output);
    const directory = output.slice(0, -1);
    if (isDirectoryOutput(output) && recorded && isRealDirectory(root, directory)) rmSync(join(root, directory), { recursive: true, force: true });
    else for (const path of written) rmSync(join(root, path), { force: true });
  }
  return touched;
}

function filesOf(root: string, output: string): string[] {
  return isDirectoryOutput(output) ? (listFilesBelow(root, output.slice(0, -1)) ?? []) : [output];
}

/** Inode, size, mtime and ctime: a write changes ctime, which no one can set back. */
function stampOf(root: string, path: string): string | undefined {
  try {
    const stats = lstatSync(join(root, path));
    return stats.isFile() ? `${stats.ino}:${stats.size}:${stats.mtimeMs}:${stats.ctimeMs}` : undefined;
  } catch {
    return undefined;
  }
}

/** Not a symlink: removing it recursively must not reach outside the project. */
function isRealDirectory(root: string, path: string): boolean {
  try {
    return lstatSync(join(root, path)).isDirectory();
  } catch {
    return false;
  }
}
