import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanupProjects, createProject, jsonEvents, REPO_ROOT, SPX_BIN, type TestProject } from './helpers/project.js';

afterEach(cleanupProjects);

// Several spx runs per test, on a machine that may be running the suite on
// three Nodes at once.
vi.setConfig({ testTimeout: 90_000 });

/** What a user gets from a command line tool: spx.yaml found from anywhere below, one error prefix, words that fit the numbers. */

const TWO_NODES = `version: 1
nodes:
  gen:
    kind: run
    command: "echo gen >> runs.log; cp in.txt gen.out"
    inputs: [in.txt]
    outputs: [gen.out]
  test:
    kind: run
    command: "echo test >> runs.log; cat gen.out > test.out"
    needs: [gen]
    outputs: [test.out]
`;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** spx started in `cwd` (a subdirectory, say), as the user typed it there. */
function spxIn(cwd: string, args: string[]): Run {
  const result = spawnSync(process.execPath, [SPX_BIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, CI: 'true', NO_COLOR: '1' } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function gitProject(yaml: string | undefined, files: Record<string, string> = { 'in.txt': 'one\n' }): TestProject {
  const project = createProject(files, yaml);
  expect(spawnSync('git', ['init', '-q'], { cwd: project.dir }).status).toBe(0);
  return project;
}

function subdirectory(project: TestProject, relative: string): string {
  const dir = project.path(relative);
  mkdirSync(dir, { recursive: true });
  return dir;
}

describe('spx.yaml is found walking up from the working directory', () => {
  it('builds the project from a subdirectory, as git and npm work from one', async () => {
    const p = gitProject(TWO_NODES);
    const result = spxIn(subdirectory(p, 'src/deep'), ['build']);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(p.takeRuns()).toEqual(['gen', 'test']);
    expect(p.exists('src/deep/.spx')).toBe(false);
    expect(spxIn(subdirectory(p, 'src'), ['status']).stdout).toContain('all 2 nodes are fresh');
  });

  it('stops at the repository root: a spx.yaml above it belongs to another project', async () => {
    const outer = createProject({}, TWO_NODES);
    const inner = path.join(outer.dir, 'inner');
    mkdirSync(path.join(inner, 'src'), { recursive: true });
    expect(spawnSync('git', ['init', '-q'], { cwd: inner }).status).toBe(0);
    const result = spxIn(path.join(inner, 'src'), ['build']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`spx: error: no spx.yaml in ${path.join(inner, 'src')} or above it, up to .. (the repository root): run "spx init" to create one, or name one with -f FILE\n`);
  });

  it('names a file in an error relative to where the user stands', async () => {
    const p = gitProject(TWO_NODES.replace('kind: run\n    command: "echo test', 'kind: rnu\n    command: "echo test'));
    const result = spxIn(subdirectory(p, 'src'), ['validate']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^\.\.\/spx\.yaml:\d+:\d+: error: /);
  });

  it('-C DIR starts the walk in DIR; -f FILE is taken as given, without a walk', async () => {
    const p = gitProject(TWO_NODES);
    subdirectory(p, 'src');
    expect(spxIn(p.dir, ['build', '-C', 'src']).code).toBe(0);
    expect(p.takeRuns()).toEqual(['gen', 'test']);

    p.write('other/pipeline.yaml', TWO_NODES);
    p.write('other/in.txt', 'two\n');
    expect(spxIn(p.path('src'), ['build', '-f', '../other/pipeline.yaml']).code).toBe(0);
    expect(p.read('other/gen.out')).toBe('two\n');

    const missing = spxIn(p.path('src'), ['build', '-f', 'spx.yaml']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('spx.yaml not found');
  });

  it('spx init writes spx.yaml where it is run, even below another project', async () => {
    const p = gitProject(TWO_NODES);
    const result = spxIn(subdirectory(p, 'packages/app'), ['init']);
    expect(result.code, result.stderr).toBe(0);
    expect(p.exists('packages/app/spx.yaml')).toBe(true);
  });
});

describe('conventions of the command line', () => {
  it('suggests the command meant for a misspelt one', () => {
    const result = spxIn(createProject({}).dir, ['bulid']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^spx: error: unknown command "bulid" \(did you mean "build"\?\)/);
  });

  it('suggests the node meant for a misspelt one, in build and approve', () => {
    const p = gitProject(TWO_NODES);
    const build = spxIn(p.dir, ['build', 'tset']);
    expect(build.code).toBe(2);
    expect(build.stderr).toMatch(/^spx: error: unknown node "tset" \(did you mean "test"\?\); the pipeline has: gen, test/);
    expect(spxIn(p.dir, ['approve', 'gne']).stderr).toContain('unknown node "gne" (did you mean "gen"?)');
  });

  it('starts every error with "spx: error:", an unknown option too', () => {
    const dir = createProject({}).dir;
    for (const args of [['build', '--frobnicate'], ['status', '--nope'], ['cache', 'stat'], ['bulid']]) {
      const result = spxIn(dir, args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr, args.join(' ')).toMatch(/^spx: error: [a-z]/);
    }
    expect(spxIn(dir, ['cache', 'stat']).stderr).toContain('(did you mean "stats"?)');
  });

  it('spx cache alone prints its help and exits 0', () => {
    const result = spxIn(createProject({}).dir, ['cache']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Usage: spx cache/);
  });

  it('documents -V and --directory in spx --help', () => {
    const help = spxIn(createProject({}).dir, ['--help']).stdout;
    expect(help).toMatch(/-C, --directory DIR/);
    expect(help).toMatch(/-V, --version/);
  });

  it('fits its words to the count: the 1 node is fresh', async () => {
    const one = gitProject(TWO_NODES.slice(0, TWO_NODES.indexOf('  test:')));
    expect(spxIn(one.dir, ['build']).code).toBe(0);
    expect(spxIn(one.dir, ['status']).stdout).toMatch(/^the 1 node is fresh$/m);
  });

  it('fits its words to the count: all 2 nodes are fresh, 1 of 1 node is stale', async () => {
    const two = gitProject(TWO_NODES);
    expect(spxIn(two.dir, ['build']).code).toBe(0);
    expect(spxIn(two.dir, ['status']).stdout).toMatch(/^all 2 nodes are fresh$/m);
    two.write('in.txt', 'changed\n');
    two.write('gen.out', 'one\n');
    expect(spxIn(two.dir, ['status', 'gen']).stdout).toMatch(/^1 of 1 node is stale$/m);
  });

  it('rounds durations to the millisecond in --json', async () => {
    const p = gitProject(TWO_NODES);
    const result = spxIn(p.dir, ['build', '--json']);
    const seconds = jsonEvents(result.stdout).flatMap((event) => [event['seconds'], event['savedSeconds']]).filter((value) => value !== undefined);
    expect(seconds.length).toBeGreaterThan(0);
    for (const value of seconds) expect(String(value)).toMatch(/^\d+(\.\d{1,3})?$/);
  });
});

const TEMPLATE = readFileSync(path.join(REPO_ROOT, 'pipelines', 'USER-SPEC.md'), 'utf8');

/** A spec node over USER-SPEC.md whose "model" is a shell command that logs each call. */
const SPEC_PIPELINE = `version: 1
providers:
  model:
    type: command
    command: [sh, -c, "cat > /dev/null; echo call >> calls.log; echo '# Spec'"]
nodes:
  spec:
    kind: spec
    provider: model
    inputs: [USER-SPEC.md]
    output: AI-SPEC.md
`;

describe('the offline provider and the USER-SPEC.md template', () => {
  it('rehearse is built in; after a rehearsal, spx status --provider rehearse finds it fresh, and echo is the same provider', async () => {
    const p = gitProject(SPEC_PIPELINE, { 'USER-SPEC.md': '# Greet\n\nSay hello.\n' });
    expect(spxIn(p.dir, ['build', '--provider', 'rehearse']).code).toBe(0);
    expect(p.read('AI-SPEC.md')).toContain('offline rehearsal');
    const status = spxIn(p.dir, ['status', '--provider', 'rehearse']);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/^the 1 node is fresh$/m);
    expect(spxIn(p.dir, ['status', '--provider', 'echo']).stdout).toMatch(/^the 1 node is fresh$/m);
    // Without it, status compares with the pipeline's own provider, as a build would.
    expect(spxIn(p.dir, ['status']).stdout).toContain('setting "provider" changed');
  });

  it('warns before a model call when USER-SPEC.md is still the template; not in a rehearsal, not once edited', async () => {
    const p = gitProject(SPEC_PIPELINE, { 'USER-SPEC.md': TEMPLATE });
    const rehearsal = spxIn(p.dir, ['build', '--provider', 'rehearse']);
    expect(rehearsal.stdout + rehearsal.stderr).not.toContain('still the template');

    const real = spxIn(p.dir, ['build']);
    expect(real.code).toBe(0);
    const printed = real.stdout + real.stderr;
    expect(printed).toContain('USER-SPEC.md is still the template spx wrote: describe the change you want in it, or the model gets its placeholders');
    expect(p.read('calls.log')).toBe('call\n');

    p.write('USER-SPEC.md', TEMPLATE.replace('## Goal\n', '## Goal\n\nGreet the user.\n'));
    const edited = spxIn(p.dir, ['build']);
    expect(edited.stdout + edited.stderr).not.toContain('still the template');
  });
});
