import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Lines that already keep spx's local state out of git. */
const IGNORING_LINES = new Set(['.spx', '.spx/', '/.spx', '/.spx/', '.spx/*', '/.spx/*', '.spx/**', '/.spx/**']);

export type GitignoreChange = 'created' | 'added' | 'present';

/**
 * Makes `.gitignore` in `root` ignore `.spx/` (the cache, logs, backups: not
 * for git), creating the file if need be and never adding the line twice.
 */
export function ignoreStateDir(root: string): GitignoreChange {
  const file = join(root, '.gitignore');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    writeFileSync(file, ENTRY.join('\n') + '\n');
    return 'created';
  }
  if (text.split(/\r?\n/).some((line) => IGNORING_LINES.has(line.trim()))) return 'present';
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const separator = text === '' || text.endsWith('\n') ? '' : eol;
  writeFileSync(file, text + separator + ENTRY.join(eol) + eol);
  return 'added';
}

const ENTRY = ["# spx's local state: cache, logs, backups (spx.lock is committed)", '.spx/'];
