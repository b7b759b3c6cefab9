import { lstatSync, type Stats } from 'node:fs';
import path from 'node:path';

/** One existing component of a path, as lstat sees it: a symlink is seen as one, not followed. */
export interface PathComponent {
  /** The path up to and including this component, relative to the root. */
  relative: string;
  absolute: string;
  stats: Stats;
  /** Whether it is the path's last component. */
  last: boolean;
}

/**
 * The components of `relative` (below `root`) from the root down, for
 * checks that no symlink or non-directory on the way leads a write
 * elsewhere. The walk ends at the first component that does not exist:
 * nothing past it can be a link. Throws what lstat throws but ENOENT
 * (EACCES, ENOTDIR below a file).
 */
export function* existingComponents(root: string, relative: string): Generator<PathComponent> {
  const parts = relative.split('/').filter((part) => part !== '' && part !== '.');
  let absolute = root;
  for (const [index, part] of parts.entries()) {
    absolute = path.join(absolute, part);
    const stats = lstatSync(absolute, { throwIfNoEntry: false });
    if (stats === undefined) return;
    yield { relative: parts.slice(0, index + 1).join('/'), absolute, stats, last: index === parts.length - 1 };
  }
}
