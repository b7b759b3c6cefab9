export interface ShellOptions {
  cwd: string;
  signal: AbortSignal;
  env?: Record<string, string>;
  onOutput(stream: 'stdout' | 'stderr', text: string): void;
}

export interface ShellResult {
  exitCode: number | undefined;
  signal: string | undefined;
  interrupted: boolean;
}

/** After SIGTERM, how long a command may take to clean up before SIGKILL. */
const KILL_GRACE_MS = 3000;

/**
 * Runs a command with `sh -c` in its own process group, so that on Ctrl-C
 * the whole tree it started (a shell's children included) is stopped, not
 * just the shell. execa is imported here, on first use, so that a build in
 * which nothing runs never loads it.
 */
export async function runShellCommand(command: string, options: ShellOptions): Promise<ShellResult> {
  const { execa } = await import('execa');
  if (options.signal.aborted) return { exitCode: undefined, signal: undefined, interrupted: true };
  const child = execa(command, {
    shell: true,
    cwd: options.cwd,
    env: options.env,
    stdin: 'ignore',
    detached: true,
    reject: false,
    buffer: false,
    stripFinalNewline: false,
  });
  child.stdout?.on('data', (chunk: Buffer) => options.onOutput('stdout', chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => options.onOutput('stderr', chunk.toString()));

  let killTimer: NodeJS.Timeout | undefined;
  const stopGroup = (): void => {
    signalGroup(child.pid, 'SIGTERM');
    killTimer = setTimeout(() => signalGroup(child.pid, 'SIGKILL'), KILL_GRACE_MS);
    killTimer.unref();
  };
  options.signal.addEventListener('abort', stopGroup, { once: true });
  try {
    const result = await child;
    return {
      exitCode: result.exitCode,
      signal: result.signal ?? undefined,
      interrupted: options.signal.aborted,
    };
  } finally {
    options.signal.removeEventListener('abort', stopGroup);
    if (killTimer) clearTimeout(killTimer);
    // The shell may be gone while something it started in the background
    // still runs in its group; an interrupted build leaves nothing behind.
    if (options.signal.aborted) signalGroup(child.pid, 'SIGKILL');
  }
}

function signalGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // The group has already exited.
  }
}
