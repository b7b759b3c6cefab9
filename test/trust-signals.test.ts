import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupProjects, createProject, SPX_BIN, statusOf, waitFor, type TestProject } from './helpers/project.js';

const HIDE_CURSOR = '\x1b[?25l';
const SHOW_CURSOR = '\x1b[?25h';
const CTRL_C = '\x03';

const terminals = new Set<ChildProcess>();

afterEach(async () => {
  for (const terminal of terminals) terminal.kill('SIGKILL');
  terminals.clear();
  await cleanupProjects();
});

interface Exit {
  code: number | null;
  output: string;
}

/**
 * `spx build` on a real pseudo-terminal (util-linux `script`), so that spx
 * draws its live task list. What is written to `terminal.type` reaches the
 * pty as keystrokes: Ctrl-C becomes SIGINT through the line discipline, as
 * for a person at a terminal.
 */
function buildInTerminal(
  project: TestProject,
  args: readonly string[] = [],
  wrap = (spx: string): string => `exec ${spx}`,
): { type(keys: string): void; hangUp(): void; output(): string; exited: Promise<Exit> } {
  // A pty made by `script` from a pipe has no size; a task list 0 columns wide draws nothing.
  // NO_COLOR alone would give plain lines: --output tasks asks for the list all the same.
  const command = `stty cols 120 rows 40; ${wrap(`'${process.execPath}' '${SPX_BIN}' build --output tasks ${args.join(' ')}`)}`;
  const env: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm-256color', NO_COLOR: '1' };
  delete env.CI;
  delete env.SPX_CACHE_DIR;
  const terminal = spawn('script', ['-qfec', command, '/dev/null'], { cwd: project.dir, env, stdio: ['pipe', 'pipe', 'pipe'] });
  terminals.add(terminal);
  let output = '';
  terminal.stdout!.setEncoding('utf8').on('data', (text: string) => (output += text));
  terminal.stderr!.setEncoding('utf8').on('data', (text: string) => (output += text));
  const exited = new Promise<Exit>((resolve) =>
    terminal.on('close', (code) => {
      terminals.delete(terminal);
      resolve({ code, output });
    }),
  );
  return {
    type: (keys) => void terminal.stdin!.write(keys),
    // `script` killed, the pty's master side closes: the kernel hangs the terminal up.
    hangUp: () => void terminal.kill('SIGKILL'),
    output: () => output,
    exited,
  };
}

/**
 * A node that finishes, then one whose command (two sleeps in a subshell)
 * ignores SIGTERM. Its subshell logs "long slept" if the sleeps end: short
 * enough that a build that failed to kill them would see it within a test's
 * time.
 */
function interruptibleProject(): TestProject {
  const project = createProject({}, '');
  const [one, two] = [project.sleepCommand(10), project.sleepCommand(10)];
  project.writeConfig(`version: 1
nodes:
  quick:
    kind: run
    command: echo quick >> runs.log && echo q > quick.out
    outputs: [quick.out]
  long:
    kind: run
    command: echo long >> runs.log && sh -c 'trap "" TERM; ${one} & ${two}; wait; echo long slept >> runs.log' && touch long.out
    needs: [quick]
    outputs: [long.out]
`);
  return project;
}

/** The command's shell, the inner shell and its two sleeps. */
const LONG_PROCESSES = 4;

describe('signals on a terminal', () => {
  it('Ctrl-C stops the task list: commands that ignore SIGTERM killed, cursor shown, summary printed, exit 130', async () => {
    const project = interruptibleProject();
    const terminal = buildInTerminal(project);
    await waitFor(() => project.survivors().length === LONG_PROCESSES, 'both sleeps of "long" to start');
    await waitFor(() => terminal.output().includes('long'), 'the task list to show "long"');

    terminal.type(CTRL_C);
    const exit = await terminal.exited;
    expect(exit!.code, exit!.output).toBe(130);
    expect(exit!.output.lastIndexOf(SHOW_CURSOR)).toBeGreaterThan(exit!.output.lastIndexOf(HIDE_CURSOR));
    expect(exit!.output).toContain('spx: interrupted (SIGINT); finished nodes are recorded');
    expect(exit!.output).toContain('spx: 1 ran, 0 fresh, 1 skipped (');
    await waitFor(() => project.survivors().length === 0, 'no process of "long" to be left', 1_000);

    expect(project.takeRuns()).toEqual(['quick', 'long']);
    expect(Object.keys(project.lock().nodes)).toEqual(['quick']);
  });

  it('a second Ctrl-C kills every command at once and exits without waiting out the grace, still showing the cursor', async () => {
    const project = interruptibleProject();
    const terminal = buildInTerminal(project);
    await waitFor(() => project.survivors().length === LONG_PROCESSES, 'both sleeps of "long" to start');
    await waitFor(() => terminal.output().includes('long'), 'the task list to show "long"');

    // The first Ctrl-C waits out the grace that the commands ignoring SIGTERM get; the second does not.
    terminal.type(CTRL_C);
    // Its SIGTERM has ended the one process of "long" that does not ignore it, the command's shell.
    await waitFor(() => project.survivors().length === LONG_PROCESSES - 1, 'the first Ctrl-C to reach the command');
    terminal.type(CTRL_C);
    const exit = await terminal.exited;
    expect(exit!.code, exit!.output).toBe(130);
    // Gone before the build's end, which comes after the grace and prints the summary.
    expect(exit!.output).not.toMatch(/spx: \d+ ran, /);
    expect(exit!.output.lastIndexOf(SHOW_CURSOR)).toBeGreaterThan(exit!.output.lastIndexOf(HIDE_CURSOR));
    expect(exit!.output).toContain('spx: stopped at once (SIGINT again)');
    await waitFor(() => project.survivors().length === 0, 'no process of "long" to be left', 1_000);

    // What finished before is recorded, in the journal if not yet in spx.lock.
    const status = await statusOf(project);
    expect(status.quick!.state).toBe('fresh');
    expect(status.long).toEqual({ state: 'stale', reasons: ['never built'] });
  });
});

describe('a terminal that closes', () => {
  it('stops the build as Ctrl-C does and exits 129, without the crash Node 20 has writing to a hung-up terminal', async () => {
    const project = interruptibleProject();
    // The shell around spx passes the hang-up on to it, as a login shell does, and reports spx's exit code.
    const terminal = buildInTerminal(project, [], (spx) => `trap 'kill -HUP $spx' HUP; ${spx} 2> spx-stderr & spx=$!; wait $spx; wait $spx; echo $? > spx-exit`);
    await waitFor(() => project.survivors().length === LONG_PROCESSES, 'both sleeps of "long" to start');
    await waitFor(() => terminal.output().includes('long'), 'the task list to show "long"');
    terminal.hangUp();
    // The shell makes the file, then writes the code: wait for the whole line.
    await waitFor(() => project.exists('spx-exit') && project.read('spx-exit').endsWith('\n'), 'spx to exit', 5_000);
    expect(project.read('spx-exit').trim()).toBe('129');
    expect(project.read('spx-stderr')).toBe('');
    await waitFor(() => project.survivors().length === 0, 'no process of "long" to be left', 1_000);
    expect(Object.keys(project.lock().nodes)).toEqual(['quick']);
  });
});

/** Spec and a reviewed plan on the offline echo provider, and `more` nodes after them. */
function reviewedProject(more = ''): TestProject {
  return createProject(
    { 'USER-SPEC.md': 'count words\n' },
    `version: 1
providers:
  echo: { type: echo }
defaults: { provider: echo }
nodes:
  spec: { kind: spec, inputs: [USER-SPEC.md], output: AI-SPEC.md }
  plan: { kind: plan, needs: [spec], output: AI-PLAN.md }
${more}`,
  );
}

describe('the review prompt', () => {
  it('Ctrl-C at the review prompt exits 130 and approves nothing', async () => {
    const project = reviewedProject();
    const terminal = buildInTerminal(project);
    await waitFor(() => terminal.output().includes('Approve plan and continue? [y/N]'), 'the review prompt');
    terminal.type(CTRL_C);
    const exit = await terminal.exited;
    expect(exit!.code, exit!.output).toBe(130);
    expect(exit!.output).toContain('spx: interrupted at the review prompt; nothing was approved');
    expect(exit!.output).not.toContain('internal error');
    expect((await statusOf(project)).plan!.state).toBe('awaiting-review');
  });
});

describe('the review prompt, answered', () => {
  it('y approves, and the same renderer draws a second task list for the dependents', async () => {
    const project = reviewedProject('  tasks: { kind: run, command: cp AI-PLAN.md tasks.out, needs: [plan], outputs: [tasks.out] }\n');
    const terminal = buildInTerminal(project);
    await waitFor(() => terminal.output().includes('Approve plan and continue? [y/N]'), 'the review prompt');
    terminal.type('y\r');
    const exit = await terminal.exited;
    expect(exit.code, exit.output).toBe(0);
    expect(exit.output).toMatch(/spx: 2 ran, 0 fresh, 1 skipped, 1 awaiting review[^\n]*\n[^]*spx: 1 ran, 2 fresh \(/);
    expect(exit.output).not.toContain('spx: review AI-PLAN.md');
    expect(project.read('tasks.out')).toBe(project.read('AI-PLAN.md'));
  });
});

describe('signals without a terminal', () => {
  it.each([
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ] as const)('%s stops the build as Ctrl-C does: commands killed, finished nodes recorded, exit %i', async (signal, code) => {
    const project = interruptibleProject();
    const running = project.start(['build']);
    await waitFor(() => project.survivors().length === LONG_PROCESSES, 'both sleeps of "long" to start');
    running.child.kill(signal);
    const result = await running.done;
    expect(result.code, result.stdout + result.stderr).toBe(code);
    expect(result.stdout).toContain(`spx: interrupted (${signal}); finished nodes are recorded`);
    await waitFor(() => project.survivors().length === 0, 'no process of "long" to be left', 1_000);

    expect(project.takeRuns()).toEqual(['quick', 'long']);
    const status = await statusOf(project);
    expect(status.quick!.state).toBe('fresh');
    expect(status.long).toEqual({ state: 'stale', reasons: ['never built'] });
  });
});

describe('outputs of an interrupted command', () => {
  it('what the interrupted command half wrote is removed, so the next build neither backs it up nor calls it edited by hand', async () => {
    const project = createProject({ 'in.txt': 'one\n', 'page/keep.html': 'mine\n' }, '');
    const waitIfSlow = `if [ -f slow ]; then ${project.sleepCommand(60)}; fi`;
    const gen = `  gen:
    kind: run
    command: echo gen >> runs.log && echo half > gen.out && mkdir -p site && echo half > site/index.html && ${waitIfSlow} && cp in.txt gen.out && cp in.txt site/index.html
    inputs: [in.txt]
    outputs: [gen.out, site/]
  untouched:
    kind: run
    command: echo untouched >> runs.log && ${waitIfSlow} && cp in.txt untouched.out
    inputs: [in.txt]
    outputs: [untouched.out]
`;
    project.writeConfig(`version: 1\nnodes:\n${gen}`);
    expect((await project.spx(['build'])).code).toBe(0);
    // A new node whose output directory already holds a file of the user's: spx has recorded none of it.
    project.writeConfig(`version: 1
nodes:
${gen}  pages:
    kind: run
    command: echo pages >> runs.log && echo new > page/new.html && ${waitIfSlow}
    outputs: [page/]
`);
    project.takeRuns();
    project.write('in.txt', 'two\n');
    project.write('slow', '');

    const running = project.start(['build', '-j', '3']);
    // Each command's shell and its sleep.
    await waitFor(() => project.survivors().length === 6, 'the three commands to wait');
    running.child.kill('SIGINT');
    const result = await running.done;
    expect(result.code, result.stdout + result.stderr).toBe(130);
    expect(result.stdout).toContain('! gen: removed gen.out: the interrupted command had begun to write it');
    expect(result.stdout).toContain('! gen: removed site/: the interrupted command had begun to write it');
    expect(result.stdout).toContain('! pages: removed page/: the interrupted command had begun to write it');
    expect(project.exists('gen.out')).toBe(false);
    expect(project.exists('site')).toBe(false);
    expect(project.exists('page/new.html')).toBe(false);
    expect(project.read('page/keep.html')).toBe('mine\n');
    expect(project.read('untouched.out')).toBe('one\n');

    rmSync(project.path('slow'));
    const status = await statusOf(project);
    expect(status.gen).toEqual({ state: 'stale', reasons: ['input changed: in.txt', 'output gen.out missing', 'output site/ missing'] });
    const again = await project.spx(['build']);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(again.stdout).not.toContain('edited by hand');
    expect(again.stdout).not.toContain('not written by spx');
    expect(project.exists('.spx/backups')).toBe(false);
    expect(project.read('gen.out')).toBe('two\n');
    expect(project.read('site/index.html')).toBe('two\n');
    expect(project.read('untouched.out')).toBe('two\n');
  });
});

/** Four nodes in a chain, each printing a line a little after the one before. */
function chainProject(): TestProject {
  const nodes = ['one', 'two', 'three', 'four'];
  return createProject(
    {},
    `version: 1
nodes:
${nodes
  .map(
    (node, i) => `  ${node}:
    kind: run
    command: echo ${node} >> runs.log && sleep 0.1 && echo printed by ${node} && echo ${node} > ${node}.out
    outputs: [${node}.out]
${i > 0 ? `    needs: [${nodes[i - 1]}]\n` : ''}`,
  )
  .join('')}`,
  );
}

/** Runs `spx ARGS | READER` under sh; spx's own exit code is kept in `spx-exit`. */
function pipeInto(project: TestProject, args: string, reader: string): Promise<{ stdout: string; stderr: string; spxExit: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, CI: 'true', NO_COLOR: '1' };
  delete env.SPX_CACHE_DIR;
  const script = `{ '${process.execPath}' '${SPX_BIN}' ${args}; echo $? > spx-exit; } | ${reader}`;
  const child = spawn('sh', ['-c', script], { cwd: project.dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', () => resolve({ stdout, stderr, spxExit: project.read('spx-exit').trim() }));
  });
}

/** Every node fresh, nothing edited by hand, and spx.lock's hash of each output that of the file on disk. */
async function expectRecordsMatchDisk(project: TestProject): Promise<void> {
  const status = await project.spx(['status', '--json']);
  const nodes = (JSON.parse(status.stdout) as { nodes: { name: string; state: string; handEdited: string[] }[] }).nodes;
  expect(nodes.map(({ name, state, handEdited }) => ({ name, state, handEdited }))).toEqual(
    ['one', 'two', 'three', 'four'].map((name) => ({ name, state: 'fresh', handEdited: [] })),
  );
  expect(existsSync(project.path('.spx/journal.jsonl'))).toBe(false);
  for (const [node, entry] of Object.entries(project.lock().nodes)) {
    const onDisk = createHash('sha256').update(readFileSync(project.path(`${node}.out`))).digest('hex');
    expect(entry.outputs, node).toEqual({ [`${node}.out`]: onDisk });
  }

  const again = await project.spx(['build', '-v']);
  expect(again.code, again.stdout + again.stderr).toBe(0);
  expect(again.stdout).toContain('spx: 0 ran, 4 fresh');
  expect(again.stdout).not.toContain('edited by hand');
  expect(again.stdout).not.toContain('not written by spx');
  expect(project.exists('.spx/backups')).toBe(false);
}

describe('a closed stdout', () => {
  it('`spx build | head -1` prints one line, no EPIPE, finishes the build and records every node', async () => {
    const project = chainProject();
    const piped = await pipeInto(project, 'build', 'head -1');
    expect(piped.stdout).toBe('▶ one: echo one >> runs.log && sleep 0.1 && echo printed by one && echo one > one.out\n');
    expect(piped.stderr).not.toMatch(/EPIPE|Error|\n\s+at /);
    expect(piped.spxExit).toBe('0');
    expect(project.takeRuns()).toEqual(['one', 'two', 'three', 'four']);
    await expectRecordsMatchDisk(project);
  });

  it('`spx build --json | head -3` gives three whole events, no EPIPE, finishes the build and records every node', async () => {
    const project = chainProject();
    const piped = await pipeInto(project, 'build --json', 'head -3');
    const lines = piped.stdout.split('\n');
    expect(lines).toHaveLength(4);
    expect(lines.slice(0, 3).map((line) => (JSON.parse(line) as { type: string }).type)).toEqual(['build-start', 'start', 'output']);
    expect(piped.stderr).not.toMatch(/EPIPE|Error|\n\s+at /);
    expect(piped.spxExit).toBe('0');
    expect(project.takeRuns()).toEqual(['one', 'two', 'three', 'four']);
    await expectRecordsMatchDisk(project);
  });
});
