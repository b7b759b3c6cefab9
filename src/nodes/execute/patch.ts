import { readFileSync } from 'node:fs';
import { git, gitSucceeds } from './git.js';
import { NodeFailure } from '../kind.js';

// --whitespace=nowarn on every call: with a user's apply.whitespace=error,
// trailing blanks the agent wrote would otherwise read as "no longer applies".
const APPLY = ['apply', '--binary', '--whitespace=nowarn'];

/** What became of a patch: `conflict` says why it no longer applies; the tree is then as it was. */
export type PatchResult = 'applied' | 'already-applied' | 'empty' | { conflict: string };

/**
 * Applies a patch made by an execute node to the user's working tree.
 * A patch already applied (a cache hit after a build that applied it, or
 * the same change made by hand) is a no-op; one that no longer applies is
 * refused whole, leaving the tree as it was.
 */
export async function tryApplyPatch(patchFile: string, repoRoot: string, signal: AbortSignal): Promise<PatchResult> {
  const options = { cwd: repoRoot, signal };
  if (readFileSync(patchFile, 'utf8').trim() === '') return 'empty';
  if (await gitSucceeds([...APPLY, '--check', patchFile], options)) {
    await git([...APPLY, patchFile], options);
    return 'applied';
  }
  if (await gitSucceeds([...APPLY, '--check', '--reverse', patchFile], options)) return 'already-applied';
  const why = await git([...APPLY, '--check', patchFile], options).then(
    () => '',
    (error: Error) => error.message.replace(/^git apply[^:]*: /, ''),
  );
  return { conflict: why.trim() };
}

/**
 * `tryApplyPatch`, failing the node when the patch no longer applies.
 * `cached` (a cache hit's patch) changes the advice: building again would
 * only restore the same patch.
 */
export async function applyPatch(
  patchFile: string,
  repoRoot: string,
  signal: AbortSignal,
  cached?: { node: string },
): Promise<'applied' | 'already-applied' | 'empty'> {
  const result = await tryApplyPatch(patchFile, repoRoot, signal);
  if (typeof result === 'string') return result;
  const cause = cached ? 'the files it touches differ from those it was made on' : 'files it touches changed meanwhile';
  const redo = cached ? `or run "spx build --force ${cached.node}" to have the agent redo it on your tree` : 'or build again to redo the change';
  throw new NodeFailure(
    `the agent's change no longer applies to your working tree (${cause}), so nothing was applied: ${result.conflict}. The patch is at ${patchFile}; apply it by hand with "git apply --3way ${patchFile}", ${redo}`,
  );
}

/**
 * Merges the patch into a worktree three ways, against the snapshot it was
 * made from (its blobs are in the repository). Returns the files left in
 * conflict: none means merged. Conflict markers stay in that worktree only.
 */
export async function mergeThreeWay(patchFile: string, worktreePath: string, signal: AbortSignal): Promise<string[]> {
  const options = { cwd: worktreePath, signal };
  if (await gitSucceeds([...APPLY, '--3way', patchFile], options)) return [];
  const conflicted = (await git(['diff', '--name-only', '--diff-filter=U'], options)).split('\n').filter(Boolean);
  // A patch that failed without a conflict (a file it deletes is gone) is a conflict all the same.
  return conflicted.length > 0 ? conflicted : await patchedFiles(patchFile, worktreePath, signal).catch(() => ['(the whole patch)']);
}

/** Paths a patch touches, for the user and the metrics. */
export async function patchedFiles(patchFile: string, repoRoot: string, signal: AbortSignal): Promise<string[]> {
  if (readFileSync(patchFile, 'utf8').trim() === '') return [];
  const numstat = await git(['apply', '--numstat', '--whitespace=nowarn', patchFile], { cwd: repoRoot, signal });
  return numstat
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => line.split('\t')[2]!)
    .filter(Boolean);
}
