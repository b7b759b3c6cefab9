import { readlinkSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { isInside } from './containment.js';
import { existingComponents } from './path-walk.js';

export interface EscapingLink {
  /** The link, relative to the project root. */
  link: string;
  /** Where it leads. */
  target: string;
}

/**
 * The first component of a project path that is a symbolic link leading out
 * of the project, if any: writing, deleting or backing up the path would
 * then act on files that are not the project's. Links that stay inside the
 * project are fine.
 */
export function escapingLink(root: string, relative: string): EscapingLink | undefined {
  const realRoot = realpathSync(root);
  try {
    for (const { relative: link, absolute, stats } of existingComponents(root, relative)) {
      if (!stats.isSymbolicLink()) continue;
      const target = linkTarget(absolute);
      if (!isInside(realRoot, target) && !isInside(root, target)) return { link, target };
    }
  } catch {
    // A component that cannot be looked at (below a file): nothing past it can be a link.
  }
  return undefined;
}

/** Where a link leads: its real path, or for a dangling link the path it names. */
function linkTarget(link: string): string {
  try {
    return realpathSync(link);
  } catch {
    return path.resolve(path.dirname(link), readlinkSync(link));
  }
}
