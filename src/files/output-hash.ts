import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { hashValue, type ContentHash } from '../util/hash.js';
import type { StatCache } from '../state/stat-cache.js';

/** A declared output ending in `/` names a directory: everything below it is the output. */
export function isDirectoryOutput(path: string): boolean {
  return path.endsWith('/');
}

/**
 * The content hash of one declared output, or undefined when it is missing.
 * A directory's hash covers the relative path and content of every file
 * below it, so adding, removing or renaming a file changes it too.
 */
export function hashOutput(statCache: StatCache, root: string, path: string): ContentHash | undefined {
  if (!isDirectoryOutput(path)) return statCache.hashFile(path);
  const files = listFilesBelow(root, path.slice(0, -1));
  if (files === undefined) return undefined;
  const tree: [string, ContentHash | undefined][] = files.map((file) => [file, statCache.hashFile(file)]);
  return hashValue(tree);
}

/** Root-relative paths of the files below a directory, sorted; undefined if it is not a directory. */
export function listFilesBelow(root: string, directory: string): string[] | undefined {
  let entries;
  try {
    entries = readdirSync(join(root, directory), { withFileTypes: true, recursive: true });
  } catch {
    return undefined;
  }
  const files: string[] = [];
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    // `parentPath` is the absolute directory of the entry (Node ≥ 20.12).
    const parent = entry.parentPath.slice(root.length + 1);
    files.push(`${parent}/${entry.name}`);
  }
  return files.sort();
}
