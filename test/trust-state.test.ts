import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupProjects, createProject, REPO_ROOT, type SpxResult, type TestProject } from './helpers/project.js';

afterEach(cleanupProjects);

/**
 * `.spx/` and spx.lock are data: damaged, edited or forged, they are rebuilt
 * (caches) or reported with exit 2 (records), never a stack trace, a hang,
 * or a config spx did not check.
 */

const PROJECT = `version: 1
nodes:
  a:
    kind: run
    command: echo a >> runs.log && cat src/*.txt > a.out
    inputs: ["src/*.txt"]
    outputs: [a.out]
`;

async function builtProject(): Promise<TestProject> {
  const project = createProject({ 'src/x.txt': 'x\n' }, PROJECT);
  const first = await project.spx(['build']);
  expect(first.code, first.stderr).toBe(0);
  expect(project.takeRuns()).toEqual(['a']);
  return project;
}

function expectNoCrash(result: SpxResult): void {
  expect(result.stderr).not.toMatch(/internal error|\n\s+at .+:\d+:\d+/);
}

/** Replaces the JSON of a `.spx` file, keeping whatever precedes it (a seal's header, if any), as a hand edit would. */
function editJson(file: string, edit: (value: any) => unknown): void {
  const text = readFileSync(file, 'utf8');
  const start = text.indexOf('{');
  writeFileSync(file, text.slice(0, start) + JSON.stringify(edit(JSON.parse(text.slice(start)))));
}

function notes(stderr: string, file: string): string[] {
  return stderr.split('\n').filter((line) => line.startsWith('spx: note:') && line.includes(file));
}

describe('damaged caches are rebuilt', () => {
  it.each(['stat-cache.json', 'glob-cache.json'])('a %s of {"format":1} is rebuilt with one note, and the node stays fresh', async (file) => {
    const project = await builtProject();
    writeFileSync(project.path(`.spx/${file}`), '{"format":1}');

    const result = await project.spx(['build']);
    expect(result.code, result.stderr).toBe(0);
    expectNoCrash(result);
    expect(notes(result.stderr, file)).toHaveLength(1);
    expect(project.takeRuns()).toEqual([]);

    const again = await project.spx(['build']);
    expect(again.code).toBe(0);
    expect(notes(again.stderr, file)).toEqual([]);
  });

  it('a stat cache edited to give an input another hash is not believed', async () => {
    const project = await builtProject();
    // Unchanged stats, a wrong hash: trusted, it would make `a` stale.
    editJson(project.path('.spx/stat-cache.json'), (cache) => {
      cache.entries['src/x.txt'][4] = '0'.repeat(64);
      return cache;
    });

    const result = await project.spx(['build']);
    expect(result.code, result.stderr).toBe(0);
    expect(notes(result.stderr, 'stat-cache.json')).toHaveLength(1);
    expect(project.takeRuns()).toEqual([]);
  });

  it('a config cache with config: {} is rebuilt with one note', async () => {
    const project = await builtProject();
    editJson(project.path('.spx/config-cache.json'), (entry) => ({ ...entry, config: {} }));

    const result = await project.spx(['build']);
    expect(result.code, result.stderr).toBe(0);
    expectNoCrash(result);
    expect(notes(result.stderr, 'config-cache.json')).toHaveLength(1);
    expect(project.takeRuns()).toEqual([]);
  });

  it('a config cache edited to run another command is not believed', async () => {
    const project = await builtProject();
    const file = project.path('.spx/config-cache.json');
    writeFileSync(file, readFileSync(file, 'utf8').replace('echo a >> runs.log', 'echo forged >> runs.log'));

    const result = await project.spx(['build']);
    expect(result.code, result.stderr).toBe(0);
    expect(project.takeRuns()).toEqual([]);
  });

  it('a config cache forged to vouch for a ../ output does not get it past the checks', async () => {
    const project = await builtProject();
    const file = project.path('.spx/config-cache.json');
    const good = readFileSync(file, 'utf8');
    const escape = `../escape-${project.marker}.out`;
    const bad = PROJECT.replace('a.out', escape).replace('[a.out]', `[${escape}]`);
    project.writeConfig(bad);
    const refused = await project.spx(['build']);
    expect(refused.code, refused.stderr).toBe(2);

    // What an attacker who knows spx.yaml (and the old cache key: a sha256 of
    // the pipelines directory and the text) would write.
    const pipelinesDir = path.join(REPO_ROOT, 'pipelines') + '/';
    const sha256 = createHash('sha256').update(pipelinesDir).update('\0').update(bad).digest('hex');
    writeFileSync(file, good);
    editJson(file, (entry) => {
      const node = entry.config.nodes.a;
      node.command = node.command.replace('a.out', escape);
      node.outputs = [escape];
      return { ...entry, sha256 };
    });

    const result = await project.spx(['build']);
    expect(result.code, result.stdout + result.stderr).toBe(2);
    expect(result.stderr).toContain(escape);
    expect(existsSync(path.join(project.dir, escape))).toBe(false);
  });

  it('a directory whose mtime was set back after a file was added to it is listed again (its ctime moved)', async () => {
    const project = await builtProject();
    // Copy the directory's mtime aside, to the nanosecond, before adding a file.
    expect(spawnSync('touch', ['-r', 'src', 'mtime-reference'], { cwd: project.dir }).status).toBe(0);
    project.write('src/y.txt', 'y\n');
    expect(spawnSync('touch', ['-r', 'mtime-reference', 'src'], { cwd: project.dir }).status).toBe(0);

    const result = await project.spx(['build']);
    expect(result.code, result.stderr).toBe(0);
    expect(project.takeRuns()).toEqual(['a']);
    expect(project.read('a.out')).toBe('x\ny\n');
  });

  it('a context cache of the wrong shape is rebuilt with one note, and selection still reads the files', async () => {
    const project = createProject(
      { '.gitignore': 'runs.log\n', 'a.txt': 'spec\n', 'b.txt': 'other\n' },
      'version: 1\nnodes:\n  context:\n    kind: context\n    files: { include: ["*.txt"], contains: "spec" }\n',
    );
    spawnSync('git', ['init', '-q'], { cwd: project.dir });
    expect((await project.spx(['build'])).code).toBe(0);
    editJson(project.path('.spx/context-cache.json'), (cache) => ({ ...cache, contains: { spec: 5 } }));
    project.write('b.txt', 'now spec too\n');

    const result = await project.spx(['build']);
    expect(result.code, result.stderr).toBe(0);
    expectNoCrash(result);
    expect(notes(result.stderr, 'context-cache.json')).toHaveLength(1);
    expect(project.read('.spx/context/context.xml')).toContain('now spec too');
  });

  it('a damaged last-build record is ignored by cache stats', async () => {
    const project = await builtProject();
    writeFileSync(project.path('.spx/last-build.json'), '{"hits":5}');

    const result = await project.spx(['cache', 'stats']);
    expect(result.code, result.stderr).toBe(0);
    expectNoCrash(result);
    expect(result.stdout).toContain('last build: none recorded');
  });
});

describe('damaged records are reported', () => {
  it('spx.lock of the wrong shape is exit 2 naming the file, the entry and what to do', async () => {
    const project = await builtProject();
    writeFileSync(project.path('spx.lock'), '{"format":1,"nodes":{"a":5}}');

    for (const command of [['build'], ['status']]) {
      const result = await project.spx(command);
      expect(result.code, result.stderr).toBe(2);
      expectNoCrash(result);
      expect(result.stderr).toContain('spx.lock:1:1: error: nodes.a is not');
      expect(result.stderr).toContain('restore spx.lock from git, or delete it');
      // The failed build let go of the project lock: none is left for the next one to take over.
      expect(project.exists('.spx/build.lock')).toBe(false);
    }
    expect(project.takeRuns()).toEqual([]);
  });

  it('a journal line of the wrong shape is exit 2 naming the journal and its line', async () => {
    const project = await builtProject();
    writeFileSync(project.path('.spx/journal.jsonl'), '{"node":"a","entry":null}\n{"node":"a","entry":5}\n');

    const result = await project.spx(['build']);
    expect(result.code, result.stderr).toBe(2);
    expectNoCrash(result);
    expect(result.stderr).toContain('.spx/journal.jsonl:2:1: error: the entry of node "a" is not');
    expect(result.stderr).toContain('delete .spx/journal.jsonl');
    expect(project.takeRuns()).toEqual([]);
  });

  it('a journal whose last line was torn by a kill is still replayed up to it', async () => {
    const project = await builtProject();
    const entry = project.lock().nodes['a'];
    writeFileSync(project.path('.spx/journal.jsonl'), `${JSON.stringify({ node: 'a', entry })}\n{"node":"a","entry":{"fingerp`);

    const result = await project.spx(['build']);
    expect(result.code, result.stderr).toBe(0);
    expect(project.takeRuns()).toEqual([]);
  });
});

describe('the build lock', () => {
  it.each([
    ['an empty lock file', (): string => ''],
    ['a lock file of garbage', (): string => 'not a lock\n'],
    ['a lock file of the wrong shape', (): string => '{"pid":"x"}'],
    ['a lock held by a process that is gone', (): string => JSON.stringify({ pid: spawnSync('true').pid, host: os.hostname(), command: 'build' })],
  ])('%s is taken over', async (_name, content) => {
    const project = await builtProject();
    project.write('src/x.txt', 'x2\n');
    mkdirSync(project.path('.spx'), { recursive: true });
    writeFileSync(project.path('.spx/build.lock'), content());

    const running = project.start(['build']);
    const timer = setTimeout(() => running.child.kill('SIGKILL'), 15_000);
    const result = await running.done;
    clearTimeout(timer);
    expect(result.code, result.stderr).toBe(0);
    expect(project.takeRuns()).toEqual(['a']);
    expect(project.exists('.spx/build.lock')).toBe(false);
  });

  it('--no-wait against a live holder says who holds it and how to clear it', async () => {
    const project = await builtProject();
    // This test's own process is alive.
    writeFileSync(project.path('.spx/build.lock'), JSON.stringify({ pid: process.pid, host: os.hostname(), command: 'build' }));

    const result = await project.spx(['build', '--no-wait']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`process ${process.pid} on ${os.hostname()}`);
    expect(result.stderr).toContain('if that process is gone, delete .spx/build.lock');
  });
});
