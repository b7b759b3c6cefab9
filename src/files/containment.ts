import { realpathSync } from 'node:fs';
import path from 'node:path';

/** Where a path named inside the project really is. */
export type Location = 'inside' | 'outside' | 'missing';

/** Whether `candidate` is the root itself or lies below it (absolute paths, both real or both not). */
export function isWithin(root: string, candidate: string): boolean {
  return candidate === root || isInside(root, candidate);
}

/** Whether `candidate` lies below the root, the root itself excluded. */
export function isInside(root: string, candidate: string): boolean {
  const relative = path.relative(root, candidate);
  return relative !== '' && relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative);
}

/**
 * Where `absolute` really is, symlinks resolved, against the root's real
 * path: the one real-path containment test. A dangling link, or a loop, is
 * missing: there is nothing there to read.
 */
export function realLocation(realRoot: string, absolute: string): Location {
  let real: string;
  try {
    real = realpathSync.native(absolute);
  } catch {
    return 'missing';
  }
  return isWithin(realRoot, real) ? 'inside' : 'outside';
}
