import { writeFileAtomic } from '../../util/atomic-write.js';
import { NodeFailure, type RunContext, type RunMetrics } from '../kind.js';
import { applyPatch, mergeThreeWay, patchedFiles, tryApplyPatch } from './patch.js';
import { VerifyFailure } from './verify-failure.js';
import type { ScratchWorktree } from './worktree.js';

export interface Landing {
  /** `merged`: three ways, with changes that landed first; `reworked`: the agent redid it on a tree that includes them. */
  how: 'applied' | 'already-applied' | 'empty' | 'merged' | 'reworked';
  files: string[];
  /** What the agent's rework cost. */
  rework?: RunMetrics;
}

export interface LandingSteps {
  patchFile: string;
  /**
   * Whether another execute node's change reached the tree after this
   * node's snapshot was taken. If not, a patch that no longer applies met a
   * human's edit: it is refused, not merged or redone.
   */
  othersLanded: boolean;
  repoRoot: string;
  context: RunContext;
  /** A fresh snapshot of the user's tree as it is now. */
  snapshot(): Promise<ScratchWorktree>;
  /** '' when the verify commands pass in the worktree, else what failed. */
  verify(worktree: ScratchWorktree): Promise<string>;
  /** The agent carries out the plan once more in the worktree, told why, and verifies it (throws VerifyFailure). */
  rework(worktree: ScratchWorktree, why: string): Promise<RunMetrics>;
}

/**
 * Brings a verified change into the user's tree, as the patch that is the
 * node's output. When it no longer applies because another feature's change
 * landed first, it is merged three ways against the snapshot it was made
 * from, in a scratch worktree; if that conflicts (or the merge fails
 * verification), the agent redoes the work once on a snapshot that includes
 * the other change. The user's tree never sees conflict markers or an
 * unverified change: only complete patches are applied to it.
 */
export async function landChange(patch: Buffer, steps: LandingSteps): Promise<Landing> {
  const { patchFile, repoRoot, context } = steps;
  writeFileAtomic(patchFile, patch);
  if (!steps.othersLanded) {
    const how = await applyPatch(patchFile, repoRoot, context.signal);
    return { how, files: await patchedFiles(patchFile, repoRoot, context.signal) };
  }
  const first = await tryApplyPatch(patchFile, repoRoot, context.signal);
  if (typeof first === 'string') return { how: first, files: await patchedFiles(patchFile, repoRoot, context.signal) };

  let why: string;
  const merging = await steps.snapshot();
  try {
    const conflicts = await mergeThreeWay(patchFile, merging.path, context.signal);
    if (conflicts.length === 0) {
      const failure = await steps.verify(merging);
      if (failure === '') return await landFrom(merging, 'merged', steps);
      why = `merged with a change that landed first, it fails verification:\n${failure}`;
    } else {
      why = `a change that landed first (another feature's) touches the same lines of ${conflicts.join(', ')}`;
    }
  } finally {
    await merging.remove();
  }

  context.onOutput('stdout', `[rework] ${why.split('\n')[0]}: the agent carries out the plan again on the tree as it is now\n`);
  const fresh = await steps.snapshot();
  let keep = false;
  try {
    const rework = await steps.rework(fresh, why);
    return { ...(await landFrom(fresh, 'reworked', steps)), rework };
  } catch (error) {
    if (error instanceof VerifyFailure) keep = true;
    throw error;
  } finally {
    if (!keep || context.signal.aborted) await fresh.remove();
  }
}

/** Applies what the worktree holds; the queue holds the user's tree still, so it applies unless the user edited meanwhile. */
async function landFrom(worktree: ScratchWorktree, how: 'merged' | 'reworked', steps: LandingSteps): Promise<Landing> {
  const { patchFile, repoRoot, context } = steps;
  writeFileAtomic(patchFile, await worktree.diff(context.signal));
  const files = await patchedFiles(patchFile, repoRoot, context.signal);
  const result = await tryApplyPatch(patchFile, repoRoot, context.signal);
  if (typeof result !== 'string') {
    throw new NodeFailure(
      `the change still does not apply to your working tree after the agent redid it (${files.join(', ')} changed meanwhile), so nothing was applied: ${result.conflict}. The patch is at ${patchFile}`,
    );
  }
  return { how, files };
}
