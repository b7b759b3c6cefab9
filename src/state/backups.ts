import { cpSync, existsSync } from 'node:fs';
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
  return target.startsWith(root + '/') ? target.slice(root.length + 1) : target;
}
