import { readdirSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupProjects, createProject, jsonEvents, REPO_ROOT, statusOf, type SpxResult, type TestProject } from './helpers/project.js';

afterEach(cleanupProjects);

/** a → b → c, with d apart; b uses u. */
const PIPELINE = `version: 1
nodes:
  a:
    kind: run
    command: echo a >> runs.log && cp in.txt a.out
    inputs: [in.txt]
    outputs: [a.out]
  b:
    kind: run
    command: echo b >> runs.log && cat a.out u.out > b.out
    needs: [a]
    uses: [u]
    outputs: [b.out]
  c:
    kind: run
    command: echo c >> runs.log && mkdir -p site && cp b.out site/index.txt
    needs: [b]
    outputs: [site/]
  d:
    kind: run
    command: echo d >> runs.log && echo d > d.out
    outputs: [d.out]
  u:
    kind: run
    command: echo u >> runs.log && echo u > u.out
    outputs: [u.out]
`;

function project(): TestProject {
  return createProject({ 'in.txt': 'one\n' }, PIPELINE);
}

async function built(): Promise<TestProject> {
  const p = project();
  expectOk(await p.spx(['build']));
  expect(p.takeRuns().sort()).toEqual(['a', 'b', 'c', 'd', 'u']);
  return p;
}

function expectOk(result: SpxResult): void {
  expect(result.code, result.stdout + result.stderr).toBe(0);
}

/** A usage error: exit 2, a one-line message, no stack trace. */
function expectUsageError(result: SpxResult, message: string | RegExp): void {
  expect(result.code).toBe(2);
  expect(result.stderr).toMatch(message);
  expect(result.stderr).not.toMatch(/^\s+at /m);
  expect(result.stderr).not.toContain('internal error');
}

describe('spx build options', () => {
  it('--dry-run runs nothing, records nothing, and says why each node would run', async () => {
    const p = await built();
    const lock = p.lockText();
    p.write('in.txt', 'two\n');
    const result = await p.spx(['build', '--dry-run']);
    expectOk(result);
    expect(p.takeRuns()).toEqual([]);
    expect(p.lockText()).toBe(lock);
    expect(result.stdout).toContain('• a would run\n    because input changed: in.txt\n');
    expect(result.stdout).toContain('• b would run\n    because "a" would run first (its output may change)\n');
    expect(result.stdout).not.toMatch(/[•▶] d/);

    expectOk(await p.spx(['build']));
    expect(p.takeRuns().sort()).toEqual(['a', 'b', 'c']);
  });

  it('--force reruns a fresh node, not restoring it from the cache (and only it, when its output is unchanged); --force alone reruns all', async () => {
    const p = await built();
    expectOk(await p.spx(['build', '--force', 'b']));
    expect(p.takeRuns()).toEqual(['b']);
    expectOk(await p.spx(['build', '--force']));
    expect(p.takeRuns().sort()).toEqual(['a', 'b', 'c', 'd', 'u']);
  });

  it('`spx build NODE` builds only that node and what it needs or uses', async () => {
    const p = project();
    expectOk(await p.spx(['build', 'b']));
    expect(p.takeRuns().sort()).toEqual(['a', 'b', 'u']);
    expect(Object.keys(p.lock().nodes).sort()).toEqual(['a', 'b', 'u']);
    expect(p.exists('site')).toBe(false);
    expect(p.exists('d.out')).toBe(false);
  });

  it('an unknown target exits 2, naming it', async () => {
    const p = project();
    expectUsageError(await p.spx(['build', 'nope']), /unknown node "nope"; the pipeline has: a, b, c, d, u/);
    expect(p.takeRuns()).toEqual([]);
  });

  it('--json writes one JSON event per line, each with a type', async () => {
    const p = project();
    const result = await p.spx(['build', '--json', 'b']);
    expectOk(result);
    const events = jsonEvents(result.stdout);
    expect(events.length).toBe(result.stdout.trimEnd().split('\n').length);
    for (const event of events) expect(typeof event.type).toBe('string');
    expect(events[0]).toMatchObject({ type: 'build-start', nodes: ['a', 'u', 'b'] });
    expect(events.at(-1)).toMatchObject({ type: 'build-end', summary: { failed: [], interrupted: false } });
    expect(events.filter((e) => e.type === 'success').map((e) => e.node).sort()).toEqual(['a', 'b', 'u']);
    expect(events.find((e) => e.type === 'start' && e.node === 'a')).toMatchObject({ reasons: [{ reason: 'never-built' }] });

    p.write('in.txt', 'two\n');
    const again = jsonEvents((await p.spx(['build', '--json'])).stdout);
    expect(again.filter((e) => e.type === 'fresh').map((e) => e.node).sort()).toEqual(['u']);
    expect(again.find((e) => e.type === 'start' && e.node === 'a')).toMatchObject({ reasons: [{ reason: 'input-changed', file: 'in.txt' }] });
  });

  it('--json gives why a node is stale, failed or was skipped as tagged data, not sentences', async () => {
    const p = await built();
    p.write('in.txt', 'two\n');
    const dry = jsonEvents((await p.spx(['build', '--json', '--dry-run', 'b'])).stdout);
    expect(dry.find((e) => e.type === 'stale' && e.node === 'a')).toEqual({ type: 'stale', node: 'a', reasons: [{ reason: 'input-changed', file: 'in.txt' }], cached: false });
    expect(dry.find((e) => e.type === 'stale' && e.node === 'b')).toMatchObject({ reasons: [{ reason: 'upstream-will-run', node: 'a' }] });

    p.writeConfig(PIPELINE.replace('cp in.txt a.out', 'exit 7'));
    const failed = await p.spx(['build', '--json', 'c']);
    expect(failed.code).toBe(1);
    const events = jsonEvents(failed.stdout);
    expect(events.find((e) => e.type === 'start')).toMatchObject({ node: 'a', reasons: [{ reason: 'setting-changed', setting: 'command' }, { reason: 'input-changed', file: 'in.txt' }] });
    expect(events.find((e) => e.type === 'failure')).toMatchObject({ node: 'a', reason: 'node-failure', message: 'command exited with code 7: echo a >> runs.log && exit 7' });
    expect(events.filter((e) => e.type === 'skipped')).toEqual([
      { type: 'skipped', node: 'b', because: { reason: 'dependency-failed', node: 'a' } },
      { type: 'skipped', node: 'c', because: { reason: 'not-built', node: 'b' } },
    ]);
    expect(failed.stderr).toBe('');
  });
});

describe('spx graph', () => {
  it('prints needs and uses edges as mermaid, dot and json', async () => {
    const p = project();
    const mermaid = await p.spx(['graph', '--format', 'mermaid']);
    expectOk(mermaid);
    expect(mermaid.stdout).toMatch(/^flowchart/);
    expect(mermaid.stdout).toContain('  a --> b\n');
    expect(mermaid.stdout).toContain('  u -.-> b\n');
    expect(mermaid.stdout).toContain('  b --> c\n');
    expect((await p.spx(['graph'])).stdout).toBe(mermaid.stdout);

    const dot = await p.spx(['graph', '--format', 'dot']);
    expectOk(dot);
    expect(dot.stdout).toMatch(/^digraph/);
    expect(dot.stdout).toContain('"a" -> "b";');
    expect(dot.stdout).toContain('"u" -> "b" [style=dashed];');

    const json = await p.spx(['graph', '--format', 'json']);
    expectOk(json);
    const graph = JSON.parse(json.stdout) as { nodes: { name: string; kind: string; needs: string[]; uses: string[] }[] };
    expect(graph.nodes.find((n) => n.name === 'b')).toEqual({ name: 'b', kind: 'run', needs: ['a'], uses: ['u'] });
    expect(graph.nodes.map((n) => n.name)).toEqual(['a', 'b', 'c', 'd', 'u']);
  });

  it('gives mermaid a plain id for a node name it would misread (a keyword, a "-"), keeping the name as the label', async () => {
    const p = createProject(
      {},
      `version: 1
nodes:
  end: { kind: run, command: "true" }
  unit-tests: { kind: run, command: "true", needs: [end] }
  n1: { kind: run, command: "true", needs: [unit-tests] }
`,
    );
    const result = await p.spx(['graph']);
    expectOk(result);
    expect(result.stdout).toBe(
      'flowchart LR\n  n2["end (run)"]\n  n3["unit-tests (run)"]\n  n1["n1 (run)"]\n  n2 --> n3\n  n3 --> n1\n',
    );
  });

  it('refuses an unknown format with exit 2', async () => {
    expectUsageError(await project().spx(['graph', '--format', 'svg']), /--format must be one of: mermaid, dot, json; got "svg"/);
  });
});

describe('spx clean', () => {
  it('removes outputs; status then says they are missing; build restores them', async () => {
    const p = await built();
    const result = await p.spx(['clean']);
    expectOk(result);
    expect(result.stdout).toContain('removed site/ (c)');
    for (const output of ['a.out', 'b.out', 'site', 'd.out', 'u.out']) expect(p.exists(output)).toBe(false);
    expect(p.exists('in.txt')).toBe(true);

    const status = await statusOf(p);
    expect(status.a).toEqual({ state: 'stale', reasons: ['output a.out missing'] });
    expect(status.d).toEqual({ state: 'stale', reasons: ['output d.out missing'] });

    // Their fingerprints are unchanged, so the cache has them: nothing runs.
    const restored = await p.spx(['build', '--json']);
    expectOk(restored);
    expect(p.takeRuns()).toEqual([]);
    const events = jsonEvents(restored.stdout);
    expect(events.filter((e) => e.type === 'restored').map((e) => e.node).sort()).toEqual(['a', 'b', 'c', 'd', 'u']);
    expect(p.read('site/index.txt')).toBe('one\nu\n');
    expect((await statusOf(p)).c).toEqual({ state: 'fresh', reasons: [] });

    // Without the cache, they run again.
    expectOk(await p.spx(['clean']));
    expectOk(await p.spx(['build', '--no-cache']));
    expect(p.takeRuns().sort()).toEqual(['a', 'b', 'c', 'd', 'u']);
    expect(p.read('site/index.txt')).toBe('one\nu\n');
  });

  it('with a node name, removes only that node\'s outputs', async () => {
    const p = await built();
    expectOk(await p.spx(['clean', 'c']));
    expect(p.exists('site')).toBe(false);
    expect(p.exists('b.out')).toBe(true);
    expect(await statusOf(p)).toMatchObject({ b: { state: 'fresh' }, c: { state: 'stale', reasons: ['output site/ missing'] } });
    expectOk(await p.spx(['build', '--no-cache']));
    expect(p.takeRuns()).toEqual(['c']);
  });
});

describe('the command line', () => {
  it('--help for spx and for each command exits 0', async () => {
    const p = project();
    for (const args of [['--help'], ['-h'], ['help'], ['init', '--help'], ['build', '--help'], ['status', '--help'], ['graph', '--help'], ['clean', '--help'], ['validate', '--help']]) {
      const result = await p.spx(args);
      expect(result.code, args.join(' ')).toBe(0);
      expect(result.stdout, args.join(' ')).toMatch(/Usage: spx/);
    }
    expect(p.takeRuns()).toEqual([]);
  });

  it('spx --help lists every command, init first; each command\'s help has its usage, options, -C, -f, -h and exit codes', async () => {
    const commands = readdirSync(`${REPO_ROOT}/src/cli/commands`)
      .filter((file) => /export const help = `/.test(readFileSync(`${REPO_ROOT}/src/cli/commands/${file}`, 'utf8')))
      .map((file) => file.replace(/\.ts$/, ''));
    expect(commands).toContain('init');
    const main = (await project().spx(['--help'])).stdout;
    const listed = [...main.matchAll(/^ {2}([a-z]+) {2,}\S/gm)].map((match) => match[1]);
    expect(listed[0]).toBe('init');
    expect([...listed].sort()).toEqual([...commands].sort());
    for (const command of commands) {
      const help = (await project().spx([command, '--help'])).stdout;
      expect(help, command).toMatch(new RegExp(`^Usage: spx ${command}`));
      for (const option of ['Options:', '-f, --file FILE', '-C, --directory DIR', '-h, --help', 'Exit codes: 0 ']) expect(help, `${command}: ${option}`).toContain(option);
    }
  });

  it("--version (and -V) prints package.json's version, in a project or in a directory without spx.yaml", async () => {
    const { version } = JSON.parse(readFileSync(`${REPO_ROOT}/package.json`, 'utf8')) as { version: string };
    for (const p of [project(), createProject({})]) {
      for (const flag of ['--version', '-V']) {
        const result = await p.spx([flag]);
        expectOk(result);
        expect(result.stdout).toBe(`${version}\n`);
      }
    }
  });

  it('an unknown command or option exits 2 without a stack trace', async () => {
    const p = project();
    expectUsageError(await p.spx(['frobnicate']), /unknown command "frobnicate"/);
    expectUsageError(await p.spx(['build', '--frobnicate']), /^spx: error: unknown option '--frobnicate'/);
    expectUsageError(await p.spx(['build', '-j', 'lots']), /-j expects a whole number/);
  });

  it('a pipeline error prints file:line:column and exits 2 without a stack trace', async () => {
    const p = createProject(
      {},
      `version: 1
nodes:
  a:
    kind: run
    command: echo a
    needs: [ghost]
`,
    );
    for (const command of ['build', 'status', 'validate']) {
      expectUsageError(await p.spx([command]), /^spx\.yaml:6:13: error: unknown node "ghost"/);
    }
  });

  it('spx validate accepts a valid pipeline', async () => {
    const result = await project().spx(['validate']);
    expectOk(result);
    expect(result.stdout).toMatch(/spx\.yaml: valid \(5 nodes\)/);
  });
});
