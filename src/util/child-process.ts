export interface ProcessOptions {
  cwd: string;
  signal: AbortSignal;
  /** Added to the inherited environment. */
  env?: NodeJS.ProcessEnv;
  /** Written to stdin (which is otherwise closed). */
  input?: string;
  /** Milliseconds before the process group is stopped; none by default. */
  timeoutMs?: number;
  onOutput?(stream: 'stdout' | 'stderr', text: string): void;
  /** Keep stdout and stderr in the result (default); off for commands that may print without bound. */
  buffer?: boolean;
}

export interface ProcessResult {
  exitCode: number | undefined;
  signal: string | undefined;
  stdout: string;
  stderr: string;
  interrupted: boolean;
  timedOut: boolean;
  /** Set when the program could not be started at all (e.g. ENOENT: not installed). */
  spawnError: NodeJS.ErrnoException | undefined;
}

/** After SIGTERM, how long a process may take to clean up before SIGKILL. */
const KILL_GRACE_MS = 3000;

/**
 * Runs a program in its own process group, so that on Ctrl-C or a timeout
 * the whole tree it started (a shell's or an agent's children included) is
 * stopped, not just the program. execa is imported here, on first use, so
 * that a build in which nothing runs never loads it.
 */
export async function runProcess(file: string, args: readonly string[], options: ProcessOptions): Promise<ProcessResult> {
  const { execa } = await import('execa');
  const empty = { stdout: '', stderr: '', timedOut: false, spawnError: undefined };
  if (options.signal.aborted) return { ...empty, exitCode: undefined, signal: undefined, interrupted: true };
  const child = execa(file, args, {
    cwd: options.cwd,
    env: options.env,
    extendEnv: true,
    input: options.input,
    stdin: options.input === undefined ? 'ignore' : 'pipe',
    detached: true,
    reject: false,
    stripFinalNewline: false,
    buffer: options.buffer ?? true,
    maxBuffer: 256 * 1024 * 1024,
  });
  child.stdout?.on('data', (chunk: Buffer) => options.onOutput?.('stdout', chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => options.onOutput?.('stderr', chunk.toString()));

  let killTimer: NodeJS.Timeout | undefined;
  let timedOut = false;
  const stopGroup = (): void => {
    signalGroup(child.pid, 'SIGTERM');
    killTimer ??= setTimeout(() => signalGroup(child.pid, 'SIGKILL'), KILL_GRACE_MS);
    killTimer.unref();
  };
  const timeout =
    options.timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          timedOut = true;
          stopGroup();
        }, options.timeoutMs);
  options.signal.addEventListener('abort', stopGroup, { once: true });
  try {
    const result = await child;
    const spawnError = result.failed && result.exitCode === undefined && !result.signal ? (result.cause as NodeJS.ErrnoException | undefined) : undefined;
    return {
      exitCode: result.exitCode,
      signal: result.signal ?? undefined,
      stdout: String(result.stdout ?? ''),
      stderr: String(result.stderr ?? ''),
      interrupted: options.signal.aborted,
      timedOut,
      spawnError,
    };
  } finally {
    options.signal.removeEventListener('abort', stopGroup);
    if (timeout) clearTimeout(timeout);
    if (killTimer) clearTimeout(killTimer);
    // The program may be gone while something it started in the background
    // still runs in its group: an interrupted build leaves nothing behind.
    if (options.signal.aborted || timedOut) signalGroup(child.pid, 'SIGKILL');
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
