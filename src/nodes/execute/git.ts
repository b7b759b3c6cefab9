import { insideWorkTree, runGit, type GitOptions } from '../../util/git.js';
import { NodeFailure } from '../kind.js';

/** Runs git and returns its stdout; a failure says which git command failed and why. */
export async function git(args: readonly string[], options: GitOptions): Promise<string> {
  const result = await runGit(args, options);
  if (result.interrupted) throw new NodeFailure('interrupted');
  if (result.spawnError?.code === 'ENOENT') throw new NodeFailure('execute nodes need git, and git was not found on PATH');
  if (result.exitCode !== 0) {
    throw new NodeFailure(`git ${args.join(' ')} failed: ${result.stderr.trim() || `exit code ${result.exitCode}`}`);
  }
  return result.stdout;
}

/** Like `git`, but a non-zero exit is an answer (false), not a failure. */
export async function gitSucceeds(args: readonly string[], options: GitOptions): Promise<boolean> {
  const result = await runGit(args, options);
  if (result.interrupted) throw new NodeFailure('interrupted');
  return result.exitCode === 0;
}

/** The top of the git work tree holding `directory`, or a clear error when there is none. */
export async function repositoryRoot(directory: string, signal: AbortSignal): Promise<string> {
  const inside = await insideWorkTree(directory, signal);
  if (signal.aborted) throw new NodeFailure('interrupted');
  if (!inside) {
    throw new NodeFailure(
      'execute nodes need a git repository: the agent works in a scratch git worktree so that your tree is never half-changed. Run "git init" (and commit) first',
    );
  }
  return (await git(['rev-parse', '--show-toplevel'], { cwd: directory, signal })).trim();
}
