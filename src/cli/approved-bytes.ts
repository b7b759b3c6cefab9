import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { LocalCache } from '../cache/local-cache.js';
import type { LoadedPipeline } from '../config/types.js';
import { isDirectoryOutput } from '../files/output-hash.js';
import type { BuildState } from '../state/build-state.js';
import { UserError } from '../util/errors.js';
import { runGit } from '../util/git.js';
import { hashBytes } from '../util/hash.js';

/**
 * Keeps the bytes of just-approved outputs in the local cache, under the
 * hashes spx.lock records as approved, so that `spx diff` can show what a
 * regenerated output changed, offline, and in a clone that restores the
 * cache. A reviewer's edit is in no cache entry: without this it would be lost.
 */
export function keepApprovedBytes(pipeline: LoadedPipeline, state: BuildState, cacheDir: string, nodes: Iterable<string>): void {
  const cache = new LocalCache(cacheDir);
  for (const node of nodes) {
    for (const [output, hash] of Object.entries(state.get(node)?.approvedOutputs ?? {})) {
      if (isDirectoryOutput(output)) continue;
      try {
        cache.keepBlob(pipeline.root, output, hash);
      } catch {
        // Changed or gone since it was approved: there are no approved bytes to keep.
      }
    }
  }
}

/** The approved bytes from the cache, if there and whole (the cache is checked, not trusted). */
export function approvedBytes(cache: LocalCache, hash: string): Buffer | undefined {
  try {
    const bytes = readFileSync(cache.blobPath(hash));
    return hashBytes(bytes) === hash ? bytes : undefined;
  } catch {
    return undefined;
  }
}

/** git's own diff of the two versions, labelled approved/OUTPUT and now/OUTPUT; `options` such as --color or --numstat. */
export async function diffAgainstApproved(output: string, before: Buffer, now: Buffer, options: readonly string[]): Promise<string> {
  const scratch = mkdtempSync(join(tmpdir(), 'spx-diff-'));
  try {
    for (const [side, bytes] of [['approved', before], ['now', now]] as const) {
      mkdirSync(dirname(join(scratch, side, output)), { recursive: true });
      writeFileSync(join(scratch, side, output), bytes);
    }
    const result = await runGit(
      ['diff', '--no-index', '--no-ext-diff', ...options, '--src-prefix=', '--dst-prefix=', '--', `approved/${output}`, `now/${output}`],
      { cwd: scratch, signal: new AbortController().signal },
    );
    // 1 is git's "they differ".
    if (result.exitCode !== 0 && result.exitCode !== 1) throw new UserError(`git diff failed: ${result.stderr.trim()}`);
    return result.stdout;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/**
 * Lines added and removed in a review node's file outputs since they were
 * approved, for the line at the review gate; undefined when the node was
 * never approved or the approved bytes are not in the cache.
 */
export async function changeSinceApproval(pipeline: LoadedPipeline, state: BuildState, cacheDir: string, node: string): Promise<{ added: number; removed: number } | undefined> {
  const approved = state.get(node)?.approvedOutputs;
  if (!approved) return undefined;
  const cache = new LocalCache(cacheDir);
  const change = { added: 0, removed: 0 };
  for (const [output, hash] of Object.entries(approved)) {
    if (isDirectoryOutput(output)) continue;
    const before = approvedBytes(cache, hash);
    if (!before) return undefined;
    const file = join(pipeline.root, output);
    const now = existsSync(file) ? readFileSync(file) : Buffer.alloc(0);
    const numstat = await diffAgainstApproved(output, before, now, ['--numstat']);
    for (const line of numstat.split('\n').filter(Boolean)) {
      const [added, removed] = line.split('\t');
      change.added += Number(added) || 0;
      change.removed += Number(removed) || 0;
    }
  }
  return change;
}
