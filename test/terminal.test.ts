import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupProjects, createProject, SPX_BIN, type TestProject } from './helpers/project.js';

const ESC = '\x1b';
const SPINNER = '⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏';
/** Each test runs spx on a pty a few times, with sleeping nodes, on a shared machine. */
const TERMINAL_TIMEOUT_MS = 60_000;

afterEach(cleanupProjects);

/**
 * `spx build` on a real pseudo-terminal (util-linux `script`): spx sees a
 * terminal on stdout, and everything it writes is kept as the terminal got
 * it, escape sequences and all (the typescript).
 */
function buildInTerminal(project: TestProject, args: string, env: Record<string, string | undefined> = {}): Promise<{ code: number | null; typescript: string }> {
  // A pty made by `script` from a pipe has no size.
  const command = `stty cols 120 rows 40; exec '${process.execPath}' '${SPX_BIN}' build ${args}`;
  const environment: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm-256color' };
  for (const name of ['CI', 'NO_COLOR', 'FORCE_COLOR', 'SPX_CACHE_DIR']) delete environment[name];
  Object.assign(environment, env);
  return new Promise((resolve) => {
    const terminal = spawn('script', ['-qfec', command, '/dev/null'], { cwd: project.dir, env: environment, stdio: ['pipe', 'pipe', 'pipe'] });
    let typescript = '';
    terminal.stdout.setEncoding('utf8').on('data', (text: string) => (typescript += text));
    terminal.stderr.setEncoding('utf8').on('data', (text: string) => (typescript += text));
    terminal.on('close', (code) => resolve({ code, typescript }));
  });
}

/** Every line the terminal was sent, each redraw of the list included, without escape sequences. */
function linesOf(typescript: string): string[] {
  return typescript
    .replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '')
    .split(/\r\n|\r|\n/)
    .filter((line) => line !== '');
}

/**
 * Two nodes that sleep and so hold both slots of -j 2; `queued` must wait
 * for one of them, `after` for `slow`, whose output is for -v to show.
 */
function slowProject(): TestProject {
  const project = createProject({}, '');
  project.writeConfig(`version: 1
nodes:
  slow:
    kind: run
    command: 'sleep 1.5 && echo "slow: all 3 checks passed" && touch slow.out'
    outputs: [slow.out]
  busy:
    kind: run
    command: 'sleep 1.5 && echo "busy said this" && touch busy.out'
    outputs: [busy.out]
  queued:
    kind: run
    command: 'echo "queued said this" && touch queued.out'
    outputs: [queued.out]
  after:
    kind: run
    command: 'echo "after said this" && touch after.out'
    needs: [slow]
    outputs: [after.out]
`);
  return project;
}

describe('the task list on a terminal', () => {
  it('spins only the nodes at work; a waiting node says what it waits for, without a spinner', async () => {
    const { code, typescript } = await buildInTerminal(slowProject(), '-j 2');
    expect(code, typescript).toBe(0);
    const lines = linesOf(typescript);

    expect(lines).toContain('◦ queued  waiting for a slot (-j 2)');
    expect(lines).toContain('◦ after  waiting for slow');
    // The two sleeping nodes spun, turning: more than one spinner frame was drawn for each.
    for (const node of ['slow', 'busy']) {
      const frames = new Set(lines.filter((line) => SPINNER.includes(line[0]!) && line.slice(2).startsWith(`${node}: `)).map((line) => line[0]));
      expect(frames.size, `${node}'s spinner turned`).toBeGreaterThan(1);
    }
    // No line saying a node waits ever has a spinner.
    const waiting = lines.filter((line) => line.includes('waiting for'));
    expect(waiting.length).toBeGreaterThan(0);
    for (const line of waiting) expect(line, 'a waiting node does not spin').toMatch(/^◦ /);
    // The last drawing: every node with its outcome.
    expect(lines).toEqual(expect.arrayContaining([expect.stringMatching(/^✔ slow \(\d+\.\d\ds\)$/), expect.stringMatching(/^✔ after \(\d+\.\d\ds\)$/)]));
    expect(lines.at(-1)).toMatch(/^spx: 4 ran, 0 fresh \(/);
    // Without -v, what a successful node printed is not shown under the list.
    expect(lines.filter((line) => line.endsWith(' output ──'))).toEqual([]);
  }, TERMINAL_TIMEOUT_MS);

  it('-v shows what each successful node printed; showOutput: true does it for one node', async () => {
    const verbose = await buildInTerminal(slowProject(), '-j 2 -v');
    expect(verbose.code, verbose.typescript).toBe(0);
    const lines = linesOf(verbose.typescript);
    const shown = lines.indexOf('── slow output ──');
    expect(shown, verbose.typescript).toBeGreaterThan(-1);
    expect(lines[shown + 1]).toBe('slow: all 3 checks passed');
    expect(lines).toContain('── queued output ──');

    const project = slowProject();
    project.writeConfig(project.read('spx.yaml').replace('  queued:\n    kind: run\n', '  queued:\n    kind: run\n    showOutput: true\n'));
    const one = await buildInTerminal(project, '-j 2');
    expect(one.code, one.typescript).toBe(0);
    expect(linesOf(one.typescript)).toContain('── queued output ──');
    expect(linesOf(one.typescript).filter((line) => line.endsWith(' output ──'))).toEqual(['── queued output ──']);
  }, TERMINAL_TIMEOUT_MS);

  it("a failed node's output is shown without -v", async () => {
    const project = createProject({}, 'version: 1\nnodes:\n  broken: { kind: run, command: "echo the reason it broke; exit 3" }\n');
    const { code, typescript } = await buildInTerminal(project, '');
    expect(code).toBe(1);
    expect(linesOf(typescript)).toContain('the reason it broke');
  }, TERMINAL_TIMEOUT_MS);
});

describe('plain lines on a terminal', () => {
  for (const [what, env] of [
    ['TERM=dumb', { TERM: 'dumb' }],
    ['NO_COLOR', { NO_COLOR: '1' }],
    ['FORCE_COLOR=0', { FORCE_COLOR: '0' }],
  ] as const) {
    it(`${what}: not one escape sequence, neither cursor movement nor colour`, async () => {
      const { code, typescript } = await buildInTerminal(slowProject(), '-j 2', env);
      expect(code, typescript).toBe(0);
      expect(typescript.includes(ESC), typescript).toBe(false);
      expect(linesOf(typescript)).toContain('▶ queued: echo "queued said this" && touch queued.out');
      expect(linesOf(typescript).at(-1)).toMatch(/^spx: 4 ran, 0 fresh \(/);
    }, TERMINAL_TIMEOUT_MS);
  }

  it('--output plain gives plain lines on a terminal that could draw the list', async () => {
    const { code, typescript } = await buildInTerminal(slowProject(), '-j 2 --output plain');
    expect(code, typescript).toBe(0);
    expect(typescript.includes(ESC), typescript).toBe(false);
    const lines = linesOf(typescript);
    expect(lines).toContain('▶ slow: sleep 1.5 && echo "slow: all 3 checks passed" && touch slow.out');
    expect(lines).toEqual(expect.arrayContaining([expect.stringMatching(/^✓ after \(\d+\.\d\ds\)$/)]));
  }, TERMINAL_TIMEOUT_MS);

  it('--output json is --json; a mode spx does not know is a usage error', async () => {
    const project = slowProject();
    const json = await project.spx(['build', '--output', 'json', 'queued']);
    expect(json.code).toBe(0);
    expect(json.stdout.split('\n').filter(Boolean).map((line) => (JSON.parse(line) as { type: string }).type)).toEqual(['build-start', 'start', 'output', 'success', 'build-end']);
    const wrong = await project.spx(['build', '--output', 'fancy']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('--output expects one of auto, tasks, plain, json, got "fancy"');
    const both = await project.spx(['build', '--json', '--output', 'plain']);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('--json and --output plain contradict each other');
  }, TERMINAL_TIMEOUT_MS);
});
