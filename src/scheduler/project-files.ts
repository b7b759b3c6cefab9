import { hashOutput } from '../files/output-hash.js';
import type { InputResolver, LeftOut } from '../files/input-resolver.js';
import type { StatCache } from '../state/stat-cache.js';
import type { ContentHash } from '../util/hash.js';

/**
 * How the scheduler reads the project to judge a node: the disk through the
 * stat cache, or a map in the scheduler's in-process tests (ninja's
 * DiskInterface and its VirtualFileSystem).
 */
export interface ProjectFiles {
  /** Input patterns → the files they name, sorted (a named file is kept even when missing). */
  match(patterns: readonly string[], leftOut?: LeftOut): string[];
  /** A regular file's content hash; undefined when it is missing or not a regular file. */
  hashFile(file: string): ContentHash | undefined;
  /** A declared output's hash (a file's, or a directory's files'); undefined when missing. */
  hashOutput(output: string): ContentHash | undefined;
  /** For the kinds that select their own inputs (context nodes): the real resolver. */
  readonly resolver: InputResolver;
}

export function diskFiles(root: string, statCache: StatCache, resolver: InputResolver): ProjectFiles {
  return {
    match: (patterns, leftOut) => resolver.resolve(patterns, leftOut),
    hashFile: (file) => statCache.hashFile(file),
    hashOutput: (output) => hashOutput(statCache, root, output),
    resolver,
  };
}
