import { runProcess, type ProcessResult } from './child-process.js';

export interface GitOptions {
  cwd: string;
  signal: AbortSignal;
  /** Added to the inherited environment. */
  env?: NodeJS.ProcessEnv;
  /** Written to git's stdin. */
  input?: string;
}

/**
 * Runs git like every program spx starts: asynchronously, so that a slow
 * git never holds up the output of the nodes running meanwhile, and in its
 * own process group, so that Ctrl-C stops it. What a failure means is the
 * caller's to say.
 */
export function runGit(args: readonly string[], options: GitOptions): Promise<ProcessResult> {
  return runProcess('git', args, options);
}

/** Whether `directory` is inside a git work tree; false too when git is not installed. */
export async function insideWorkTree(directory: string, signal: AbortSignal): Promise<boolean> {
  return (await runGit(['rev-parse', '--is-inside-work-tree'], { cwd: directory, signal })).exitCode === 0;
}
