import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { hashValue, type ContentHash } from '../util/hash.js';
import type { StatCache } from '../state/stat-cache.js';

/** A declared output ending in `/` names a directory: everything below it is the output. */
export function isDirectoryOutput(path: string): boolean {
  return path.endsWith('/');
}

export interface OutputFile {
  path: string;
  hash: ContentHash;
}

/**
 * The files one declared output consists of, with their content hashes, or
 * undefined when it is missing. A file output is one file; a directory
 * output is every file below it, sorted.
 */
export function outputFiles(statCache: StatCache, root: string, declared: string): OutputFile[] | undefined {
  // A directory output is walked whole, not through listings a witness hears of.
  if (isDirectoryOutput(declared)) statCache.witness?.cannotVouch(`${declared} is a directory output`);
  const paths = isDirectoryOutput(declared) ? listFilesBelow(root, declared.slice(0, -1)) : [declared];
  if (paths === undefined) return undefined;
  const files: OutputFile[] = [];
  for (const path of paths) {
    const hash = statCache.hashFile(path);
    if (hash === undefined) return undefined;
    files.push({ path, hash });
  }
  return files;
}

/**
 * The content hash of one declared output, or undefined when it is missing.
 * A directory's hash covers the relative path and content of every file
 * below it, so adding, removing or renaming a file changes it too.
 */
export function hashOutput(statCache: StatCache, root: string, declared: string): ContentHash | undefined {
  const files = outputFiles(statCache, root, declared);
  if (files === undefined) return undefined;
  return isDirectoryOutput(declared) ? hashOutputFiles(files) : files[0]!.hash;
}

export function hashOutputFiles(files: readonly OutputFile[]): ContentHash {
  return hashValue(files.map((file) => [file.path, file.hash]));
}

/** Permission bits of a file, for storing it so that it comes back executable if it was. */
export function fileMode(root: string, path: string): number {
  return statSync(join(root, path)).mode & 0o777;
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
