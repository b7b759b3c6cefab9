import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { killPids, livePids } from './processes.js';

/** The compiled CLI: the suite runs after `npm run build`, as a user would run spx. */
export const SPX_BIN = fileURLToPath(new URL('../../bin/spx.js', import.meta.url));
export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface SpxResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunningSpx {
  child: ChildProcess;
  /** Settles when the process has exited and its streams are drained. */
  done: Promise<SpxResult>;
  /** What it has printed so far. */
  stdout(): string;
  stderr(): string;
}

export interface SpxOptions {
  /** Variables added to (or, when undefined, removed from) the environment. */
  env?: Record<string, string | undefined>;
}

const projects: TestProject[] = [];
const running = new Set<ChildProcess>();

/**
 * A throwaway spx project in a real temp directory. Node commands in the
 * tests append their name to `runs.log` (`echo a >> runs.log`), so that a
 * test can say exactly which nodes ran.
 */
export class TestProject {
  /**
   * Unique per project: a tag for the processes its commands start (see
   * `sleepCommand`). Fixed width, so that no marker is a prefix of another.
   */
  readonly marker = `${Math.floor(Math.random() * 1e9)}`.padStart(9, '0');
  private sleeps = 0;

  constructor(readonly dir: string) {}

  path(relative: string): string {
    return path.join(this.dir, relative);
  }

  write(relative: string, content: string): void {
    const file = this.path(relative);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, content);
  }

  read(relative: string): string {
    return readFileSync(this.path(relative), 'utf8');
  }

  exists(relative: string): boolean {
    return existsSync(this.path(relative));
  }

  /** Replaces spx.yaml. */
  writeConfig(yaml: string): void {
    this.write('spx.yaml', yaml);
  }

  /** Runs spx to completion in the project directory. */
  spx(args: string[], options: SpxOptions = {}): Promise<SpxResult> {
    return this.start(args, options).done;
  }

  /** Starts spx and returns at once, for tests that signal it or race it. */
  start(args: string[], options: SpxOptions = {}): RunningSpx {
    // Plain output (stdout is a pipe anyway), and the project's own cache,
    // with no remote cache unless a test sets one.
    const env: NodeJS.ProcessEnv = { ...process.env, CI: 'true', NO_COLOR: '1' };
    delete env.SPX_CACHE_DIR;
    for (const name of Object.keys(env)) if (name.startsWith('SPX_REMOTE_CACHE_')) delete env[name];
    for (const [name, value] of Object.entries(options.env ?? {})) {
      if (value === undefined) delete env[name];
      else env[name] = value;
    }
    const child = spawn(process.execPath, [SPX_BIN, ...args], { cwd: this.dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    child.stderr!.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    running.add(child);
    child.on('exit', () => running.delete(child));
    const done = new Promise<SpxResult>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    });
    return { child, done, stdout: () => stdout, stderr: () => stderr };
  }

  /** The nodes that ran since the last call, in the order they started; empties the log. */
  takeRuns(): string[] {
    const runs = this.peekRuns();
    rmSync(this.path('runs.log'), { force: true });
    return runs;
  }

  /** The nodes that ran so far, without emptying the log. */
  peekRuns(): string[] {
    const file = this.path('runs.log');
    if (!existsSync(file)) return [];
    return readFileSync(file, 'utf8').split('\n').filter((line) => line !== '');
  }

  lockText(): string {
    return this.read('spx.lock');
  }

  lock(): Lock {
    return JSON.parse(this.lockText()) as Lock;
  }

  /**
   * A `sleep` whose command line is unique to this project (`sleep 30.000123`
   * is still 30 s to GNU and busybox sleep), so that `survivors()` finds
   * exactly the processes this project's commands started.
   */
  sleepCommand(seconds: number): string {
    this.sleeps++;
    return `sleep ${seconds}.${this.marker}${this.sleeps}`;
  }

  /** Pids of live processes started by `sleepCommand` (zombies excluded). */
  survivors(): number[] {
    return livePids(`sleep [0-9]+\\.${this.marker}`);
  }

  /** Kills, by pid, whatever `sleepCommand` processes are left (after a kill -9 of spx). */
  killSurvivors(): void {
    killPids(this.survivors());
  }
}

export interface LockEntry {
  fingerprint: string;
  kind: string;
  settings: Record<string, string>;
  inputs: Record<string, string>;
  needs: Record<string, string>;
  env: Record<string, string>;
  outputs: Record<string, string>;
}

export interface Lock {
  format: number;
  nodes: Record<string, LockEntry>;
}

/** A project with these files (path → content) and this spx.yaml (none without it, as before spx init). */
export function createProject(files: Record<string, string>, yaml?: string): TestProject {
  const project = new TestProject(mkdtempSync(path.join(os.tmpdir(), 'spx-test-')));
  projects.push(project);
  for (const [relative, content] of Object.entries(files)) project.write(relative, content);
  if (yaml !== undefined) project.writeConfig(yaml);
  return project;
}

/**
 * For `afterEach`: stops spx processes a failed test left running (SIGTERM,
 * so that spx stops its own children), kills leftover commands, and removes
 * every project made since the last call.
 */
export async function cleanupProjects(): Promise<void> {
  const exits = [...running].map((child) => new Promise((resolve) => child.once('exit', resolve)));
  for (const child of running) child.kill('SIGTERM');
  await Promise.race([Promise.all(exits), new Promise((resolve) => setTimeout(resolve, 5_000))]);
  for (const project of projects.splice(0)) {
    project.killSurvivors();
    // A test may have made files unreadable; root would not care, others would.
    spawnSync('chmod', ['-R', 'u+rwX', project.dir]);
    rmSync(project.dir, { recursive: true, force: true });
  }
}

/** Resolves once `condition` holds, checking every 20 ms; fails after `timeoutMs`. */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The events of a `--json` build, one parsed object per line. */
export function jsonEvents(stdout: string): { type: string; [key: string]: unknown }[] {
  return stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as { type: string });
}

/** `spx status --json`, as name → {state, reasons}. */
export async function statusOf(project: TestProject, options: SpxOptions = {}): Promise<Record<string, { state: string; reasons: string[] }>> {
  const result = await project.spx(['status', '--json'], options);
  if (result.code !== 0) throw new Error(`spx status failed (${result.code}): ${result.stderr}`);
  const parsed = JSON.parse(result.stdout) as { nodes: { name: string; state: string; reasons: string[] }[] };
  return Object.fromEntries(parsed.nodes.map(({ name, state, reasons }) => [name, { state, reasons }]));
}
