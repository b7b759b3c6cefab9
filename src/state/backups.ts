import { copyFileSync, lstatSync, mkdirSync, readdirSync, realpathSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { isInside } from '../files/containment.js';

/**
 * Saves a copy of an output a human edited, before spx regenerates it:
 * `.spx/backups/NODE/<time>/<path>`. spx never loses a hand edit.
 * Returns the backup's path relative to the project root, or undefined when
 * there was nothing to save.
 *
 * A backup holds bytes, never links: an output a human replaced by a link
 * is saved as the content it showed (a copied link would change with its
 * target, or dangle). Links leading out of the project and special files
 * (a FIFO would block the build) are left out.
 */
export function backUpOutput(root: string, stateDir: string, node: string, output: string, now: Date = new Date()): string | undefined {
  const source = join(root, output);
  const stamp = now.toISOString().replace(/[:.]/g, '-');
  const target = join(stateDir, 'backups', node, stamp, output);
  if (!copyBytes(source, target, realpathSync(root), true)) return undefined;
  pruneOldBackups(join(stateDir, 'backups', node));
  return target.startsWith(root + '/') ? target.slice(root.length + 1) : target;
}

/**
 * Where `spx init --force` keeps the USER-SPEC.md it replaces: "@" cannot
 * be in a node's name, so no node's backups (nor their pruning) share it.
 */
export const INIT_BACKUPS = '@init';

/** Copies a file, or a directory's files, as bytes; whether anything was copied. */
function copyBytes(source: string, target: string, realRoot: string, top: boolean): boolean {
  let stats;
  try {
    stats = lstatSync(source);
  } catch {
    return false;
  }
  if (stats.isSymbolicLink()) {
    let real: string;
    try {
      real = realpathSync(source);
      stats = statSync(real);
    } catch {
      return false;
    }
    if (!isInside(realRoot, real)) return false;
    // Only the output itself may be a linked directory: one deeper could loop.
    if (stats.isDirectory() && !top) return false;
    source = real;
  }
  if (stats.isFile()) {
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(source, target);
    return true;
  }
  if (!stats.isDirectory()) return false;
  mkdirSync(target, { recursive: true });
  for (const entry of readdirSync(source)) copyBytes(join(source, entry), join(target, entry), realRoot, false);
  return true;
}

/** Backups kept per node: enough to undo a bad regeneration, not a disk filler. */
const KEPT_PER_NODE = 10;

/**
 * Keeps the newest backups of a node. A directory output that other tools
 * rewrite (a dist/ built outside spx) is backed up on every regeneration;
 * without a limit those copies would pile up forever.
 */
function pruneOldBackups(nodeDir: string): void {
  // The names are ISO timestamps: sorting them sorts by time.
  const stamps = readdirSync(nodeDir).sort();
  for (const stamp of stamps.slice(0, Math.max(0, stamps.length - KEPT_PER_NODE))) {
    rmSync(join(nodeDir, stamp), { recursive: true, force: true });
  }
}
