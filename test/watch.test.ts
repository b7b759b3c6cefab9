import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeGemini } from './helpers/fake-gemini.js';
import { BuildState, buildInMemory, FakeRunner, MemoryFiles, pipelineFrom } from './helpers/memory-build.js';
import { cleanupProjects, createProject, jsonEvents, SPX_BIN, waitFor, type RunningSpx, type SpxOptions, type TestProject } from './helpers/project.js';

// `spx build --watch` on real temp projects: real chokidar, real child
// processes, the real Gemini SDK against the loopback server. Waits poll
// with generous timeouts (a loaded 2-core machine); how fast a save is
// rebuilt is measured by bench/run-watch.mjs, not asserted here.

let fake: FakeGemini;
let env: SpxOptions;
/** `script` and spx processes a failed test left running. */
const terminals = new Set<ReturnType<typeof spawn>>();

beforeEach(async () => {
  fake = new FakeGemini();
  await fake.start();
  fake.fallback = { answer: '# An answer\n' };
  env = { env: { GEMINI_API_KEY: `test-key-${randomBytes(8).toString('hex')}`, SPX_RETRY_BASE_MS: '10' } };
});

afterEach(async () => {
  for (const terminal of terminals) terminal.kill('SIGKILL');
  await cleanupProjects();
  await fake.stop();
});

type Event = ReturnType<typeof jsonEvents>[number];

/** The events printed so far; a line still being written is left for later. */
function eventsOf(running: RunningSpx): Event[] {
  const text = running.stdout();
  return jsonEvents(text.slice(0, text.lastIndexOf('\n') + 1));
}

function ofType(running: RunningSpx, type: string): Event[] {
  return eventsOf(running).filter((event) => event.type === type);
}

/** Resolves once the watch has finished `count` shown builds. */
async function buildsDone(running: RunningSpx, count: number): Promise<void> {
  await waitFor(() => ofType(running, 'watch-build-end').length >= count || running.child.exitCode !== null, `watch build ${count} to end`);
  expect(running.child.exitCode, running.stdout() + running.stderr()).toBeNull();
}

/** The events of shown build `build`, from its watch-build-start to its watch-build-end. */
function buildEvents(running: RunningSpx, build: number): Event[] {
  const events = eventsOf(running);
  const start = events.findIndex((event) => event.type === 'watch-build-start' && event.build === build);
  const end = events.findIndex((event) => event.type === 'watch-build-end' && event.build === build);
  return events.slice(start, end + 1);
}

async function stopWatch(running: RunningSpx): Promise<void> {
  running.child.kill('SIGINT');
  const result = await running.done;
  expect(result.code, result.stdout + result.stderr).toBe(130);
}

const TWO_RUN_NODES = `version: 1
nodes:
  a:
    kind: run
    command: echo a >> runs.log && cp in.txt a.out
    inputs: [in.txt]
    outputs: [a.out]
  b:
    kind: run
    command: echo b >> runs.log && cat a.out other.txt > b.out
    needs: [a]
    inputs: [other.txt]
    outputs: [b.out]
`;

function twoNodes(): TestProject {
  return createProject({ 'in.txt': 'one\n', 'other.txt': 'other\n' }, TWO_RUN_NODES);
}

function modelPipeline(): string {
  return `version: 1
providers:
  gemini: { type: gemini, model: gemini-test, baseUrl: "${fake.url}", retries: 0 }
defaults: { provider: gemini }
nodes:
  spec: { kind: spec, inputs: [USER-SPEC.md], output: AI-SPEC.md, review: false }
  after:
    kind: run
    command: echo after >> runs.log && cp AI-SPEC.md after.out
    needs: [spec]
    outputs: [after.out]
  notes:
    kind: run
    command: echo notes >> runs.log && cp notes.txt notes.out
    inputs: [notes.txt]
    outputs: [notes.out]
`;
}

describe('rebuilding on save', () => {
  it('rebuilds a saved input and what needs it, and nothing else', async () => {
    const project = twoNodes();
    const watching = project.start(['build', '--watch', '--json']);
    await buildsDone(watching, 1);
    expect(project.takeRuns()).toEqual(['a', 'b']);

    project.write('other.txt', 'changed\n');
    await buildsDone(watching, 2);
    expect(buildEvents(watching, 2)[0]).toEqual({ type: 'watch-build-start', build: 2, trigger: 'change', changed: ['other.txt'] });
    expect(project.takeRuns()).toEqual(['b']);
    expect(project.read('b.out')).toBe('one\nchanged\n');
    await stopWatch(watching);
  });

  it('ten saves within 200 ms make at most two builds, the last of them with the last content', async () => {
    const project = twoNodes();
    const watching = project.start(['build', '--watch', '--json']);
    await buildsDone(watching, 1);
    project.takeRuns();

    for (let i = 1; i <= 10; i++) {
      project.write('in.txt', `save ${i}\n`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await waitFor(() => project.exists('b.out') && project.read('b.out') === 'save 10\nother\n', 'the last save to be built');
    await buildsDone(watching, 2);
    // Let a second build, if there is one, show itself.
    project.write('other.txt', 'sentinel\n');
    await waitFor(() => project.read('b.out') === 'save 10\nsentinel\n', 'the sentinel save to be built');
    const runs = project.takeRuns();
    const buildsOfTheBurst = ofType(watching, 'watch-build-start').length - 2;
    expect(buildsOfTheBurst).toBeGreaterThanOrEqual(1);
    expect(buildsOfTheBurst).toBeLessThanOrEqual(2);
    expect(runs.filter((node) => node === 'a').length).toBe(buildsOfTheBurst);
    await stopWatch(watching);
  });

  it('outputs spx writes itself set off no further build', async () => {
    const project = twoNodes();
    const watching = project.start(['build', '--watch', '--json']);
    await buildsDone(watching, 1);
    project.write('in.txt', 'two\n');
    await buildsDone(watching, 2);
    // A later save's build is number 3: nothing was shown, or run, in between.
    project.write('other.txt', 'sentinel\n');
    await buildsDone(watching, 3);
    expect(ofType(watching, 'watch-build-start').map((event) => event.changed)).toEqual([[], ['in.txt'], ['other.txt']]);
    expect(project.takeRuns()).toEqual(['a', 'b', 'a', 'b', 'b']);
    await stopWatch(watching);
  });
});

describe('model and agent nodes', () => {
  it('a save of USER-SPEC.md calls no model: spec is reported stale, with why, and held', async () => {
    const project = createProject({ 'USER-SPEC.md': 'Greet.\n', 'notes.txt': 'n\n' }, modelPipeline());
    const watching = project.start(['build', '--watch', '--json'], env);
    // The first build is a save like any other: spec has never been built, and is held.
    await buildsDone(watching, 1);
    expect(fake.calls).toBe(0);
    expect(ofType(watching, 'watch-build-end')[0]).toMatchObject({ held: ['spec'], input: 'none' });
    expect(project.takeRuns()).toEqual(['notes']);

    project.write('USER-SPEC.md', 'Greet by name.\n');
    project.write('notes.txt', 'm\n');
    await buildsDone(watching, 2);
    const second = buildEvents(watching, 2);
    expect(second).toContainEqual(expect.objectContaining({ type: 'stale', node: 'spec' }));
    expect(second).toContainEqual(
      expect.objectContaining({ type: 'stale', node: 'after', reasons: expect.arrayContaining([{ reason: 'upstream-will-run', node: 'spec' }]) }),
    );
    expect(second.at(-1)).toMatchObject({ type: 'watch-build-end', held: ['spec'] });
    expect(project.takeRuns()).toEqual(['notes']);
    expect(fake.calls).toBe(0);
    expect(project.exists('AI-SPEC.md')).toBe(false);
    await stopWatch(watching);
  });

  it('--watch=all runs the model node on save', async () => {
    const project = createProject({ 'USER-SPEC.md': 'Greet.\n', 'notes.txt': 'n\n' }, modelPipeline());
    fake.enqueue({ answer: '# First\n' }, { answer: '# Second\n' });
    const watching = project.start(['build', '--watch=all', '--json'], env);
    await buildsDone(watching, 1);
    expect(fake.calls).toBe(1);
    project.write('USER-SPEC.md', 'Greet by name.\n');
    await buildsDone(watching, 2);
    expect(fake.calls).toBe(2);
    expect(fake.requests[1]!.body.contents[0]!.parts.map((part) => part.text).join('')).toContain('Greet by name.');
    expect(project.takeRuns()).toEqual(['notes', 'after', 'after']);
    await stopWatch(watching);
  });
});

/**
 * `spx build --watch` on a real pseudo-terminal (util-linux `script`), as
 * in trust-signals.test.ts: what `type` writes reaches spx as keys.
 */
function watchInTerminal(project: TestProject): { type(keys: string): void; output(): string; exited: Promise<number | null> } {
  const command = `stty cols 120 rows 40; exec '${process.execPath}' '${SPX_BIN}' build --watch --output tasks`;
  const terminalEnv: NodeJS.ProcessEnv = { ...process.env, ...env.env, TERM: 'xterm-256color', NO_COLOR: '1' };
  delete terminalEnv.CI;
  const terminal = spawn('script', ['-qfec', command, '/dev/null'], { cwd: project.dir, env: terminalEnv, stdio: ['pipe', 'pipe', 'pipe'] });
  terminals.add(terminal);
  terminal.on('close', () => terminals.delete(terminal));
  let output = '';
  terminal.stdout!.setEncoding('utf8').on('data', (text: string) => (output += text));
  terminal.stderr!.setEncoding('utf8').on('data', (text: string) => (output += text));
  const exited = new Promise<number | null>((resolve) => terminal.on('close', resolve));
  return { type: (keys) => void terminal.stdin!.write(keys), output: () => output, exited };
}

describe('on a terminal', () => {
  it('m runs the held model node, Ctrl-C ends the watch with 130 and the cursor shown', async () => {
    const project = createProject({ 'USER-SPEC.md': 'Greet.\n', 'notes.txt': 'n\n' }, modelPipeline());
    const terminal = watchInTerminal(project);
    await waitFor(() => terminal.output().includes('press m to run them (q to quit)'), 'the watch to say how to run spec');
    expect(fake.calls).toBe(0);
    terminal.type('m');
    await waitFor(() => fake.calls === 1 && terminal.output().includes('watching for changes (q to quit)'), 'spec to run on m');
    expect(project.read('AI-SPEC.md')).toBe('# An answer\n');
    terminal.type('\x03');
    expect(await terminal.exited).toBe(130);
    const output = terminal.output();
    expect(output.lastIndexOf('\x1b[?25h')).toBeGreaterThan(output.lastIndexOf('\x1b[?25l'));
  });
});

describe('driven through a pipe', () => {
  it('a line m runs the held model node, a line q ends the watch with 0', async () => {
    const project = createProject({ 'USER-SPEC.md': 'Greet.\n', 'notes.txt': 'n\n' }, modelPipeline());
    const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env.env, CI: 'true', NO_COLOR: '1' };
    const child = spawn(process.execPath, [SPX_BIN, 'build', '--watch', '--json'], { cwd: project.dir, env: childEnv, stdio: ['pipe', 'pipe', 'pipe'] });
    terminals.add(child);
    let stdout = '';
    child.stdout!.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    const ends = (): Event[] => jsonEvents(stdout.slice(0, stdout.lastIndexOf('\n') + 1)).filter((event) => event.type === 'watch-build-end');
    await waitFor(() => ends().length === 1, 'the first build');
    expect(ends()[0]).toMatchObject({ held: ['spec'], input: 'lines' });
    expect(fake.calls).toBe(0);
    child.stdin!.write('m\n');
    await waitFor(() => ends().length === 2, 'the build the line m asked for');
    expect(fake.calls).toBe(1);
    expect(ends()[1]).toMatchObject({ held: [] });
    child.stdin!.write('q\n');
    expect(await exited).toBe(0);
  });
});

describe('the pipeline file', () => {
  it('an edit of spx.yaml is picked up; a broken one is reported with its place and the watch goes on until it is fixed', async () => {
    const project = twoNodes();
    const watching = project.start(['build', '--watch', '--json']);
    await buildsDone(watching, 1);
    project.takeRuns();

    project.writeConfig(TWO_RUN_NODES.replace('nodes:\n', 'nodes:\n  c:\n    kind: run\n    comand: true\n'));
    await waitFor(() => ofType(watching, 'watch-pipeline-error').length === 1, 'the broken pipeline to be reported');
    expect(String(ofType(watching, 'watch-pipeline-error')[0]!.message)).toMatch(/spx\.yaml:5:5: .*comand/);
    // Still watching, with the pipeline it had.
    project.write('in.txt', 'two\n');
    await buildsDone(watching, 2);
    expect(project.takeRuns()).toEqual(['a', 'b']);

    project.writeConfig(TWO_RUN_NODES.replace('nodes:\n', 'nodes:\n  c:\n    kind: run\n    command: echo c >> runs.log && touch c.out\n    outputs: [c.out]\n'));
    await buildsDone(watching, 3);
    expect(buildEvents(watching, 3)[0]).toMatchObject({ changed: ['spx.yaml'] });
    expect(project.takeRuns()).toEqual(['c']);
    await stopWatch(watching);
  });
});

describe('one watch, one build at a time', () => {
  it('holds the project lock: a second build says a watch is running', async () => {
    const project = twoNodes();
    const watching = project.start(['build', '--watch', '--json']);
    await buildsDone(watching, 1);
    const refused = await project.spx(['build', '--no-wait']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`process ${watching.child.pid}`);
    expect(refused.stderr).toContain('a watch is running there');
    await stopWatch(watching);
  });

  it('Ctrl-C during a build stops its commands and ends the watch with 130, no child left', async () => {
    const project = createProject({ 'in.txt': 'one\n' }, '');
    const sleep = project.sleepCommand(30);
    project.writeConfig(`version: 1
nodes:
  slow:
    kind: run
    command: if grep -q slow in.txt; then ${sleep}; fi; cp in.txt slow.out
    inputs: [in.txt]
    outputs: [slow.out]
`);
    const watching = project.start(['build', '--watch', '--json']);
    await buildsDone(watching, 1);
    project.write('in.txt', 'slow\n');
    await waitFor(() => project.survivors().length > 0, 'the slow command to start');
    await stopWatch(watching);
    await waitFor(() => project.survivors().length === 0, 'no command to be left', 2_000);
    expect(project.exists('.spx/build.lock')).toBe(false);
  });
});

describe('the no-model-on-save policy, in memory', () => {
  const pipeline = `
version: 1
nodes:
  spec: { kind: spec, provider: echo, inputs: [USER-SPEC.md], output: AI-SPEC.md, review: false }
  after: { kind: run, command: "true", needs: [spec], outputs: [after.out] }
  other: { kind: run, command: "true", inputs: [x.txt], outputs: [other.out] }
`;

  it('holds a stale spec and its dependents, runs the rest; without the policy the spec runs', async () => {
    const files = new MemoryFiles();
    files.write('USER-SPEC.md', 'a feature');
    files.write('x.txt', 'x');
    const held = new FakeRunner(files);
    const { summary, events } = await buildInMemory(pipelineFrom(pipeline), BuildState.inMemory(), held, { holdModelNodes: true });
    expect(held.ran).toEqual(['other']);
    expect(summary.stale.sort()).toEqual(['after', 'spec']);
    expect(events).toContainEqual(expect.objectContaining({ type: 'stale', node: 'spec', reasons: [{ reason: 'never-built' }] }));

    const running = new FakeRunner(files);
    await buildInMemory(pipelineFrom(pipeline), BuildState.inMemory(), running);
    expect(running.ran.sort()).toEqual(['after', 'other', 'spec']);
  });
});
