import { lstatSync, readlinkSync, realpathSync } from 'node:fs';
import path from 'node:path';

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
 * project are fine. The walk ends at the first component that does not
 * exist: nothing past it can be a link.
 */
export function escapingLink(root: string, relative: string): EscapingLink | undefined {
  const realRoot = realpathSync(root);
  let current = root;
  for (const component of relative.split('/').filter((c) => c !== '' && c !== '.')) {
    current = path.join(current, component);
    let isLink: boolean;
    try {
      isLink = lstatSync(current).isSymbolicLink();
    } catch {
      return undefined;
    }
    if (!isLink) continue;
    const target = linkTarget(current);
    if (!isInside(realRoot, target) && !isInside(root, target)) return { link: path.relative(root, current), target };
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

/** Whether `candidate` is the root itself or lies below it (absolute paths, both real or both not). */
export function isWithin(root: string, candidate: string): boolean {
  return candidate === root || isInside(root, candidate);
}

/** Whether `candidate` lies below the root, the root itself excluded. */
export function isInside(root: string, candidate: string): boolean {
  const relative = path.relative(root, candidate);
  return relative !== '' && relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative);
}
