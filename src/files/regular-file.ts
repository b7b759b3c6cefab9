import { closeSync, constants, fstatSync, lstatSync, openSync, readFileSync } from 'node:fs';

/**
 * A file's bytes if what `path` opens is a regular file. It is opened
 * non-blocking, so that a FIFO put in its place is refused instead of
 * hanging the build, and checked once open, so that nothing swapped in
 * between a check and the read is read. With `links: 'refuse'` a symlink
 * is not followed either (O_NOFOLLOW). Throws what open throws
 * (failedToOpen tells it from a failed read).
 */
export function readIfRegular(path: string, links: 'follow' | 'refuse'): Buffer | 'not a regular file' {
  const noFollow = links === 'refuse' ? constants.O_NOFOLLOW : 0;
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | noFollow);
  try {
    if (!fstatSync(fd).isFile()) return 'not a regular file';
    return readFileSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * A file's bytes, or why not: only a regular file is read, and never
 * through a symlink or by blocking on a FIFO put in its place.
 */
export function readRegularFile(path: string): Buffer | 'missing' | 'not a regular file' {
  const stats = lstatSync(path, { throwIfNoEntry: false });
  if (stats === undefined) return 'missing';
  if (!stats.isFile()) return 'not a regular file';
  try {
    return readIfRegular(path, 'refuse');
  } catch (error) {
    if (!failedToOpen(error)) throw error;
    return error.code === 'ENOENT' ? 'missing' : 'not a regular file';
  }
}

/** Whether readIfRegular threw because the file could not be opened (a refusal), not because reading it failed. */
export function failedToOpen(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && (error as NodeJS.ErrnoException).syscall === 'open';
}
