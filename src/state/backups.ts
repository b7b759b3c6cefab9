import { cpSync, existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Saves a copy of an output a human edited, before spx regenerates it:
 * `.spx/backups/NODE/<time>/<path>`. spx never loses a hand edit.
 * Returns the backup's path relative to the project root.
 */
export function backUpOutput(root: string, stateDir: string, node: string, output: string, now: Date = new Date()): string | undefined {
  const source = join(root, output);
  if (!existsSync(source)) return undefined;
  const stamp = now.toISOString().replace(/[:.]/g, '-');
  const target = join(stateDir, 'backups', node, stamp, output);
  cpSync(source, target, { recursive: true });
  pruneOldBackups(join(stateDir, 'backups', node));
  return target.startsWith(root + '/') ? target.slice(root.length + 1) : target;
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
