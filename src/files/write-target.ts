import { realLocation } from './containment.js';
import { existingComponents } from './path-walk.js';

/**
 * Why writing `relative` (below the root) could land elsewhere than it says,
 * or undefined if it cannot: no component from the root down may be a
 * symlink or a file where a directory must be, and the real path of what
 * exists stays inside the real root. A file's own last component may be a
 * symlink: a rename over it replaces the link. Stricter than
 * escapingLink, which lets links inside the project be: for writes that
 * come from elsewhere (a cache entry), not from the project's own command.
 */
export function unsafeWriteTarget(root: string, realRoot: string, relative: string, kind: 'file' | 'directory'): string | undefined {
  let existing = root;
  try {
    for (const { relative: shown, absolute, stats, last } of existingComponents(root, relative)) {
      if (stats.isSymbolicLink()) {
        if (last && kind === 'file') break;
        return `${shown} is a symbolic link; spx does not restore through one`;
      }
      if (!last && !stats.isDirectory()) return `${shown} is not a directory`;
      if (last && kind === 'file' && stats.isDirectory()) return `${shown} is a directory, not a file`;
      existing = absolute;
    }
  } catch (error) {
    return `cannot check ${relative}: ${(error as Error).message}`;
  }
  const location = realLocation(realRoot, existing);
  if (location === 'outside') return `${relative} leads outside the project`;
  if (location === 'missing') return `cannot check ${relative}: it was removed while being checked`;
  return undefined;
}
