import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

let counter = 0;

/**
 * Writes a file so that a reader, or a process killed at any moment
 * (`kill -9`), sees either the old content or the new one, never a mix:
 * the bytes go to a temp file in the same directory, then one rename.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array, options: { fsync?: boolean; mode?: number } = {}): void {
  mkdirSync(dirname(path), { recursive: true });
  const temp = `${path}.tmp-${process.pid}-${counter++}`;
  try {
    // The name is predictable: whatever stands there (a leftover of a killed
    // process with this pid, or a symlink planted to redirect the write) goes,
    // and the file is created anew, never opened through a link.
    rmSync(temp, { force: true });
    const fd = openSync(temp, 'wx', options.mode ?? 0o666);
    try {
      writeFileSync(fd, data);
      if (options.fsync) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}
