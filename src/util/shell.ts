import { runProcess, type ProcessResult } from './child-process.js';

export interface ShellOptions {
  cwd: string;
  signal: AbortSignal;
  env?: NodeJS.ProcessEnv;
  onOutput(stream: 'stdout' | 'stderr', text: string): void;
}

/**
 * Runs a command line with `sh -c`, in its own process group (so Ctrl-C
 * stops what it started too), streaming its output instead of keeping it.
 */
export function runShellCommand(command: string, options: ShellOptions): Promise<ProcessResult> {
  return runProcess('/bin/sh', ['-c', command], { ...options, buffer: false });
}
