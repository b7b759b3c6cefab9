import { readFileSync } from 'node:fs';
import { git, gitSucceeds } from './git.js';
import { NodeFailure } from '../kind.js';

/**
 * Applies a patch made by an execute node to the user's working tree.
 * A patch already applied (a cache hit after a build that applied it, or
 * the same change made by hand) is a no-op; one that no longer applies is
 * refused whole, leaving the tree as it was. `cached` (a cache hit's patch)
 * changes the advice: building again would only restore the same patch.
 */
export async function applyPatch(
  patchFile: string,
  repoRoot: string,
  signal: AbortSignal,
  cached?: { node: string },
): Promise<'applied' | 'already-applied' | 'empty'> {
  const options = { cwd: repoRoot, signal };
  if (readFileSync(patchFile, 'utf8').trim() === '') return 'empty';
  // --whitespace=nowarn on every call: with a user's apply.whitespace=error,
  // trailing blanks the agent wrote would otherwise read as "no longer applies".
  const apply = ['apply', '--binary', '--whitespace=nowarn'];
  if (await gitSucceeds([...apply, '--check', patchFile], options)) {
    await git([...apply, patchFile], options);
    return 'applied';
  }
  if (await gitSucceeds([...apply, '--check', '--reverse', patchFile], options)) return 'already-applied';
  const why = await git([...apply, '--check', patchFile], options).then(
    () => '',
    (error: Error) => error.message.replace(/^git apply[^:]*: /, ''),
  );
  const cause = cached ? 'the files it touches differ from those it was made on' : 'files it touches changed meanwhile';
  const redo = cached ? `or run "spx build --force ${cached.node}" to have the agent redo it on your tree` : 'or build again to redo the change';
  throw new NodeFailure(
    `the agent's change no longer applies to your working tree (${cause}), so nothing was applied: ${why.trim()}. The patch is at ${patchFile}; apply it by hand with "git apply --3way ${patchFile}", ${redo}`,
  );
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
