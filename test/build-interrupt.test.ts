import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupProjects, createProject, jsonEvents, statusOf, waitFor, type TestProject } from './helpers/project.js';

afterEach(cleanupProjects);

/** Parses spx.lock if it exists; throws if it is not valid JSON. */
function checkLockIsValid(project: TestProject): void {
  const file = project.path('spx.lock');
  if (!existsSync(file)) return;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return; // replaced between the two calls: the next poll reads the new one
  }
  JSON.parse(text);
}

/** Waits until the command at the gate has started; the gate opens when `go` exists (30 s at most). */
const GATE = 'for i in $(seq 600); do [ -f go ] && break; sleep 0.05; done';

describe('interrupted builds', () => {
  it('a build killed with -9 resumes without redoing finished nodes, and spx.lock stays valid JSON throughout', async () => {
    const project = createProject({ 'in.txt': 'one\n', fast: '' }, '');
    const slow = project.sleepCommand(30);
    project.writeConfig(`version: 1
nodes:
  a:
    kind: run
    command: echo a >> runs.log && cp in.txt a.out
    inputs: [in.txt]
    outputs: [a.out]
  b:
    kind: run
    command: echo b >> runs.log && cat a.out a.out > b.out
    needs: [a]
    outputs: [b.out]
  slow:
    kind: run
    command: echo slow >> runs.log && if [ ! -f fast ]; then ${slow}; fi && cp b.out slow.out
    needs: [b]
    outputs: [slow.out]
`);
    // A first, complete build, so that spx.lock exists and gets rewritten below.
    expect((await project.spx(['build'])).code).toBe(0);
    project.takeRuns();
    const lockBefore = project.lockText();

    project.write('in.txt', 'two\n');
    rmSync(project.path('fast'));
    const running = project.start(['build']);
    // `slow` starts only after b is recorded, so once it runs, a and b are done.
    await waitFor(() => {
      checkLockIsValid(project);
      return project.peekRuns().includes('slow');
    }, 'node "slow" to start');
    running.child.kill('SIGKILL');
    const killed = await running.done;
    expect(killed.signal).toBe('SIGKILL');
    project.killSurvivors();
    checkLockIsValid(project);
    expect(project.takeRuns()).toEqual(['a', 'b', 'slow']);

    // What the killed build finished counts; only the node it was running is stale.
    const status = await statusOf(project);
    expect(status.a!.state).toBe('fresh');
    expect(status.b!.state).toBe('fresh');
    expect(status.slow).toEqual({ state: 'stale', reasons: ['output of "b" changed'] });

    project.write('fast', '');
    const resumed = await project.spx(['build']);
    expect(resumed.code, resumed.stdout + resumed.stderr).toBe(0);
    expect(project.takeRuns()).toEqual(['slow']);
    expect(project.read('slow.out')).toBe('two\ntwo\n');
    expect(project.lockText()).not.toBe(lockBefore);
  });

  it('Ctrl-C stops the running command and everything it started, records finished nodes, and exits 130 without waiting for them', async () => {
    const project = createProject({}, '');
    // Short enough that a command left to finish would do so within the test's time, and log it.
    const [one, two] = [project.sleepCommand(10), project.sleepCommand(10)];
    project.writeConfig(`version: 1
nodes:
  quick:
    kind: run
    command: echo quick >> runs.log && echo q > quick.out
    outputs: [quick.out]
  long:
    kind: run
    command: echo long >> runs.log && sh -c '${one} & ${two}; wait; echo long slept >> runs.log' && touch long.out
    needs: [quick]
    outputs: [long.out]
`);
    const running = project.start(['build']);
    // The command's shell, the inner shell and its two sleeps.
    await waitFor(() => project.survivors().length === 4, 'both sleeps of "long" to start');
    running.child.kill('SIGINT');
    const result = await running.done;
    expect(result.code, result.stdout + result.stderr).toBe(130);
    expect(result.stdout).toContain('interrupted');
    // SIGKILL takes effect at once but is not synchronous with spx's exit.
    await waitFor(() => project.survivors().length === 0, 'no process of "long" to be left', 2_000);

    expect(project.takeRuns()).toEqual(['quick', 'long']);
    expect(Object.keys(project.lock().nodes)).toEqual(['quick']);
    const status = await statusOf(project);
    expect(status.quick!.state).toBe('fresh');
    expect(status.long).toEqual({ state: 'stale', reasons: ['never built'] });
  });
});

describe('one build at a time', () => {
  it('a second build with --no-wait exits 1 naming the holder; without it, it waits and then succeeds', async () => {
    const project = createProject(
      {},
      `version: 1
nodes:
  gated:
    kind: run
    command: echo gated >> runs.log && ${GATE} && touch gated.out
    outputs: [gated.out]
`,
    );
    const first = project.start(['build']);
    await waitFor(() => project.peekRuns().includes('gated'), 'the first build to start its node');
    const pid = first.child.pid!;

    const refused = await project.spx(['build', '--no-wait']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`another build holds the project lock: process ${pid} on ${os.hostname()}`);

    // --json says it as an event on stdout, like everything else the build says.
    const refusedJson = await project.spx(['build', '--no-wait', '--json']);
    expect(refusedJson.code).toBe(1);
    expect(refusedJson.stderr).toBe('');
    expect(jsonEvents(refusedJson.stdout)).toEqual([{ type: 'lock-busy', holder: expect.stringContaining(`process ${pid} on ${os.hostname()}`) }]);

    const second = project.start(['build']);
    await waitFor(() => second.stderr().includes(`waiting for the build running in process ${pid}`), 'the second build to wait');
    expect(second.child.exitCode).toBeNull();

    project.write('go', '');
    expect((await first.done).code).toBe(0);
    const waited = await second.done;
    expect(waited.code, waited.stdout + waited.stderr).toBe(0);
    expect(waited.stdout).toContain('0 ran, 1 fresh');
    expect(project.takeRuns()).toEqual(['gated']);
    expect(existsSync(project.path('.spx/build.lock'))).toBe(false);
  });

  it("a lock left by a process that no longer exists is taken over; a live holder's is not", async () => {
    const project = createProject(
      {},
      `version: 1
nodes:
  a:
    kind: run
    command: echo a >> runs.log && touch a.out
    outputs: [a.out]
`,
    );
    const lockFile = project.path('.spx/build.lock');
    mkdirSync(project.path('.spx'), { recursive: true });

    // This test's own process is alive.
    writeFileSync(lockFile, JSON.stringify({ pid: process.pid, host: os.hostname(), command: 'build' }));
    const refused = await project.spx(['build', '--no-wait']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`process ${process.pid}`);
    expect(project.takeRuns()).toEqual([]);

    // A process that has exited (and been reaped) is not.
    const deadPid = spawnSync('true').pid;
    writeFileSync(lockFile, JSON.stringify({ pid: deadPid, host: os.hostname(), command: 'build' }));
    const result = await project.spx(['build', '--no-wait']);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(project.takeRuns()).toEqual(['a']);
    expect(existsSync(lockFile)).toBe(false);
  });
});
