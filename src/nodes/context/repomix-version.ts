import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let version: string | undefined;

/**
 * The installed repomix's version, for the fingerprint: a new repomix may
 * pack the same files into other bytes. Read from its package.json, found
 * as Node finds a package (node_modules/repomix in this directory or an
 * ancestor; its `exports` do not expose package.json), without loading
 * repomix or the resolver: every no-op build pays for this.
 */
export function repomixVersion(): string {
  if (version !== undefined) return version;
  let directory = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const manifest = JSON.parse(readFileSync(join(directory, 'node_modules', 'repomix', 'package.json'), 'utf8')) as { version?: unknown };
      if (typeof manifest.version === 'string') return (version = manifest.version);
    } catch {
      // Not installed at this level: keep climbing.
    }
    const parent = dirname(directory);
    if (parent === directory) throw new Error('repomix is not installed: cannot find node_modules/repomix/package.json');
    directory = parent;
  }
}
