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
  /** Decoded as UTF-8. */
  stdout: string;
  /** As written: for output that need not be UTF-8 (file names from git). */
  stdoutBytes: Buffer;
  stderr: string;
  interrupted: boolean;
  timedOut: boolean;
  /** Set when the program could not be started at all (e.g. ENOENT: not installed). */
  spawnError: NodeJS.ErrnoException | undefined;
}

/** After a timeout's SIGTERM, how long a process may take to clean up before SIGKILL. */
const TIMEOUT_GRACE_MS = 3000;
/**
 * After Ctrl-C's SIGTERM, a shorter grace: a person is waiting, and spx
 * promises to be back at the prompt within 2 s even when a program ignores
 * SIGTERM.
 */
const INTERRUPT_GRACE_MS = 1000;

/** The process groups of the programs running now, for `killEveryGroup`. */
const liveGroups = new Set<number>();

/**
 * SIGKILLs the process group of every program still running, at once: for a
 * second Ctrl-C, after which spx exits without waiting for anything.
 */
export function killEveryGroup(): void {
  for (const pid of liveGroups) signalGroup(pid, 'SIGKILL');
}

/**
 * Runs a program in its own process group, so that on Ctrl-C or a timeout
 * the whole tree it started (a shell's or an agent's children included) is
 * stopped, not just the program. execa is imported here, on first use, so
 * that a build in which nothing runs never loads it.
 */
export async function runProcess(file: string, args: readonly string[], options: ProcessOptions): Promise<ProcessResult> {
  const { execa } = await import('execa');
  const empty = { stdout: '', stdoutBytes: Buffer.alloc(0), stderr: '', timedOut: false, spawnError: undefined };
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
    encoding: 'buffer',
    maxBuffer: 256 * 1024 * 1024,
  });
  if (child.pid !== undefined) liveGroups.add(child.pid);
  child.stdout?.on('data', (chunk: Buffer) => options.onOutput?.('stdout', chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => options.onOutput?.('stderr', chunk.toString()));

  let killTimer: NodeJS.Timeout | undefined;
  let timedOut = false;
  const stopGroup = (graceMs: number): void => {
    signalGroup(child.pid, 'SIGTERM');
    killTimer ??= setTimeout(() => signalGroup(child.pid, 'SIGKILL'), graceMs);
    killTimer.unref();
  };
  const interrupt = (): void => stopGroup(INTERRUPT_GRACE_MS);
  const timeout =
    options.timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          timedOut = true;
          stopGroup(TIMEOUT_GRACE_MS);
        }, options.timeoutMs);
  options.signal.addEventListener('abort', interrupt, { once: true });
  try {
    const result = await child;
    const spawnError = result.failed && result.exitCode === undefined && !result.signal ? (result.cause as NodeJS.ErrnoException | undefined) : undefined;
    const stdoutBytes = Buffer.from(result.stdout ?? []);
    return {
      exitCode: result.exitCode,
      signal: result.signal ?? undefined,
      stdout: stdoutBytes.toString('utf8'),
      stdoutBytes,
      stderr: Buffer.from(result.stderr ?? []).toString('utf8'),
      interrupted: options.signal.aborted,
      timedOut,
      spawnError,
    };
  } finally {
    options.signal.removeEventListener('abort', interrupt);
    if (timeout) clearTimeout(timeout);
    if (killTimer) clearTimeout(killTimer);
    // The program may be gone while something it started in the background
    // still runs in its group: an interrupted build leaves nothing behind.
    if (options.signal.aborted || timedOut) signalGroup(child.pid, 'SIGKILL');
    if (child.pid !== undefined) liveGroups.delete(child.pid);
  }
}

/**
 * How a program that did not succeed ended, for a message that goes on to
 * name it: "was killed by SIGTERM", "exited with code 2", or why it never ran.
 */
export function describeExit(result: Pick<ProcessResult, 'exitCode' | 'signal' | 'spawnError'>): string {
  if (result.spawnError) return `could not run (${result.spawnError.message})`;
  return result.signal ? `was killed by ${result.signal}` : `exited with code ${result.exitCode}`;
}

function signalGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // The group has already exited.
  }
}
