import { readFileSync } from 'node:fs';
import { git, gitSucceeds } from './git.js';
import { NodeFailure } from '../kind.js';

/**
 * Applies a patch made by an execute node to the user's working tree.
 * A patch already applied (a cache hit after a build that applied it, or
 * the same change made by hand) is a no-op; one that no longer applies is
 * refused whole, leaving the tree as it was.
 */
export async function applyPatch(patchFile: string, repoRoot: string, signal: AbortSignal): Promise<'applied' | 'already-applied' | 'empty'> {
  const options = { cwd: repoRoot, signal };
  if (readFileSync(patchFile, 'utf8').trim() === '') return 'empty';
  if (await gitSucceeds(['apply', '--check', '--binary', patchFile], options)) {
    await git(['apply', '--binary', '--whitespace=nowarn', patchFile], options);
    return 'applied';
  }
  if (await gitSucceeds(['apply', '--check', '--reverse', '--binary', patchFile], options)) return 'already-applied';
  const why = await git(['apply', '--check', '--binary', patchFile], options).then(
    () => '',
    (error: Error) => error.message.replace(/^git apply[^:]*: /, ''),
  );
  throw new NodeFailure(
    `the agent's change no longer applies to your working tree (files it touches changed meanwhile), so nothing was applied: ${why.trim()}. The patch is at ${patchFile}; apply it by hand with "git apply --3way ${patchFile}", or build again to redo the change`,
  );
}

/** Paths a patch touches, for the user and the metrics. */
export async function patchedFiles(patchFile: string, repoRoot: string, signal: AbortSignal): Promise<string[]> {
  if (readFileSync(patchFile, 'utf8').trim() === '') return [];
  const numstat = await git(['apply', '--numstat', patchFile], { cwd: repoRoot, signal });
  return numstat
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => line.split('\t')[2]!)
    .filter(Boolean);
}
