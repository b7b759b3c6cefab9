import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupProjects, createProject, jsonEvents, SPX_BIN, type TestProject } from './helpers/project.js';
import { readSealed, writeSealed } from './helpers/sealed.js';

afterEach(cleanupProjects);

/**
 * `.spx/fresh.json`: a build that found every node fresh leaves the stats
 * its verdict rested on, and the next build replays the verdict when they
 * are unchanged. These tests prove both halves: that the replay happens
 * (strace: spx.lock is not even opened) and says what the full build says,
 * and that every change the full build would see, including ones built to
 * fool it, makes spx judge afresh.
 */

const PIPELINE = `version: 1
nodes:
  gen:
    kind: run
    command: echo gen >> runs.log && cat src/*.txt > gen.out
    inputs: ["src/*.txt"]
    outputs: [gen.out]
  copy:
    kind: run
    command: echo copy >> runs.log && cp gen.out copy.out && cat lib/deep/name.txt >> copy.out
    inputs: [lib/deep/name.txt]
    needs: [gen]
    outputs: [copy.out]
    env: [STAGE]
`;

const FILES = { 'src/a.txt': 'a\n', 'src/b.txt': 'b\n', 'lib/deep/name.txt': 'name\n' };
const SNAPSHOT = '.spx/fresh.json';

async function build(project: TestProject, args: string[] = [], env: Record<string, string | undefined> = {}): Promise<string[]> {
  // Without the cache: a node made stale again is restored from it, not run, and runs.log counts runs.
  const result = await project.spx(['build', '-o', 'plain', '--no-cache', ...args], { env });
  expect(result.stderr).toBe('');
  expect(result.code, result.stdout).toBe(0);
  return project.takeRuns().sort();
}

/** Built, then built again with nothing to do: the second build leaves the snapshot. */
async function withSnapshot(files: Record<string, string> = FILES, yaml = PIPELINE): Promise<TestProject> {
  const project = createProject(files, yaml);
  await build(project);
  expect(await build(project)).toEqual([]);
  expect(project.exists(SNAPSHOT)).toBe(true);
  return project;
}

/** The files one `spx build` opened, as strace saw them. */
function openedBy(project: TestProject, args: string[] = []): { opened: string[]; stdout: string } {
  const trace = path.join(os.tmpdir(), `spx-trace-${process.pid}-${Math.random().toString(36).slice(2)}`);
  try {
    const result = spawnSync('strace', ['-f', '-qq', '-e', 'trace=open,openat,openat2', '-o', trace, process.execPath, SPX_BIN, 'build', '-o', 'plain', ...args], {
      cwd: project.dir,
      encoding: 'utf8',
      env: { ...process.env, CI: 'true' },
    });
    expect(result.status, result.stderr).toBe(0);
    const opened = readFileSync(trace, 'utf8').split('\n').filter((line) => /open/.test(line) && !/= -1 /.test(line));
    return { opened, stdout: result.stdout };
  } finally {
    rmSync(trace, { force: true });
  }
}

const straceWorks = spawnSync('strace', ['-o', '/dev/null', 'true']).status === 0;

describe('a build with nothing to do replays the last verdict', () => {
  it.skipIf(!straceWorks)('reads the snapshot, not spx.lock, the stat cache or any input', async () => {
    const project = await withSnapshot();
    const { opened, stdout } = openedBy(project);
    expect(stdout).toMatch(/^spx: 0 ran, 2 fresh \(/);
    expect(opened.some((line) => line.includes(`${project.dir}/${SNAPSHOT}"`))).toBe(true);
    for (const file of ['spx.lock', '.spx/stat-cache.json', 'spx.yaml', 'src/a.txt', 'lib/deep/name.txt', 'gen.out']) {
      expect(opened.filter((line) => line.includes(`${project.dir}/${file}"`)), file).toEqual([]);
    }
    // The full build does open spx.lock: the trace would have seen it.
    rmSync(project.path(SNAPSHOT));
    expect(openedBy(project).opened.some((line) => line.includes(`${project.dir}/spx.lock"`))).toBe(true);
  });

  it('shows the same events as the full build (--json), and -v lists the same nodes', async () => {
    const project = await withSnapshot();
    const events = async (): Promise<unknown[]> => {
      const result = await project.spx(['build', '--json', '-j', '3']);
      expect(result.code).toBe(0);
      return jsonEvents(result.stdout).map((event) => (event.type === 'build-end' ? { ...event, seconds: 0 } : event));
    };
    const replayed = await events();
    expect(project.exists(SNAPSHOT)).toBe(true);
    rmSync(project.path(SNAPSHOT));
    const judged = await events();
    expect(replayed).toEqual(judged);
    expect(judged.map((event) => (event as { type: string }).type)).toEqual(['build-start', 'fresh', 'fresh', 'build-end']);
    const verbose = await project.spx(['build', '-o', 'plain', '-v']);
    expect(verbose.stdout).toContain('gen');
    expect(verbose.stdout).toContain('copy');
  });

  it.skipIf(!straceWorks)('after touch, reads the touched files to compare them, runs nothing, and is back to stats only next time', async () => {
    const project = await withSnapshot();
    const later = new Date(Date.now() - 60_000);
    // Touched into the past: old enough for the new stats to be trusted at once.
    for (const file of ['src/a.txt', 'src/b.txt', 'lib/deep/name.txt']) utimesSync(project.path(file), later, later);
    const touched = openedBy(project);
    expect(touched.stdout).toMatch(/^spx: 0 ran, 2 fresh \(/);
    expect(touched.opened.filter((line) => line.includes(`${project.dir}/spx.lock"`))).toEqual([]);
    expect(touched.opened.filter((line) => line.includes(`${project.dir}/src/a.txt"`))).toHaveLength(1);
    const again = openedBy(project);
    expect(again.stdout).toMatch(/^spx: 0 ran, 2 fresh \(/);
    expect(again.opened.filter((line) => line.includes(`${project.dir}/src/a.txt"`))).toEqual([]);
    expect(project.takeRuns()).toEqual([]);
  });

  it('is kept per command line: other targets, another pipeline file or provider are judged afresh', async () => {
    const project = await withSnapshot();
    const result = await project.spx(['build', '--json', 'gen']);
    expect(jsonEvents(result.stdout).filter((event) => event.type === 'fresh').map((event) => event.node)).toEqual(['gen']);
  });
});

describe('every change the full build would see makes spx judge afresh', () => {
  it('an input edited with its size and mtime put back (its ctime moved)', async () => {
    const project = await withSnapshot();
    spawnSync('cp', ['-p', 'src/a.txt', 'mtime-reference'], { cwd: project.dir });
    project.write('src/a.txt', 'A\n');
    expect(spawnSync('touch', ['-r', 'mtime-reference', 'src/a.txt'], { cwd: project.dir }).status).toBe(0);
    expect(await build(project)).toEqual(['copy', 'gen']);
    expect(project.read('copy.out')).toBe('A\nb\nname\n');
  });

  it('a new file a glob matches, and a removed one', async () => {
    const project = await withSnapshot();
    project.write('src/c.txt', 'c\n');
    expect(await build(project)).toEqual(['copy', 'gen']);
    expect(await build(project)).toEqual([]);
    rmSync(project.path('src/c.txt'));
    expect(await build(project)).toEqual(['copy', 'gen']);
  });

  it('a deleted output, and a hand-edited one (reported as the full build reports it)', async () => {
    const project = await withSnapshot();
    rmSync(project.path('copy.out'));
    expect(await build(project)).toEqual(['copy']);
    expect(await build(project)).toEqual([]);
    project.write('gen.out', 'edited by hand\n');
    const result = await project.spx(['build', '--json']);
    expect(jsonEvents(result.stdout).find((event) => event.type === 'fresh' && event.node === 'gen')).toMatchObject({ handEdited: ['gen.out'] });
  });

  it('spx.yaml, a declared environment variable, and an spx.lock put back from git', async () => {
    const project = await withSnapshot();
    project.writeConfig(PIPELINE.replace('cat src/*.txt > gen.out', 'cat src/*.txt src/*.txt > gen.out'));
    expect(await build(project)).toEqual(['copy', 'gen']);
    expect(await build(project)).toEqual([]);
    expect(await build(project, [], { STAGE: 'prod' })).toEqual(['copy']);
    expect(await build(project, [], { STAGE: 'prod' })).toEqual([]);
    expect(await build(project, [], { STAGE: 'prod' })).toEqual([]);
    const olderLock = project.lockText();
    project.write('lib/deep/name.txt', 'other name\n');
    expect(await build(project, [], { STAGE: 'prod' })).toEqual(['copy']);
    expect(await build(project, [], { STAGE: 'prod' })).toEqual([]);
    // The lock of before the edit: it records the old name's hash, so copy is stale again.
    writeFileSync(project.path('spx.lock'), olderLock);
    expect(await build(project, [], { STAGE: 'prod' })).toEqual(['copy']);
  });

  it('a journal left by a killed build', async () => {
    const project = await withSnapshot();
    const lock = project.lock();
    // What a build killed after copy ran on other input would have journalled.
    const entry = { ...lock.nodes.copy, fingerprint: '0'.repeat(64), inputs: { 'lib/deep/name.txt': '1'.repeat(64) } };
    writeFileSync(project.path('.spx/journal.jsonl'), JSON.stringify({ node: 'copy', entry }) + '\n');
    expect(await build(project)).toEqual(['copy']);
  });
});

describe('a snapshot built to fool spx is not believed', () => {
  it('an edited snapshot (the seal no longer matches) is ignored: the build judges for itself', async () => {
    const project = await withSnapshot();
    project.write('src/a.txt', 'changed\n');
    // Forge: copy the edited file's current stats into the snapshot, keeping the old seal.
    const text = readFileSync(project.path(SNAPSHOT), 'utf8');
    const [header, body] = [text.slice(0, text.indexOf('\n')), text.slice(text.indexOf('\n') + 1)];
    writeFileSync(project.path(SNAPSHOT), `${header}\n${body.replace('"format":2', '"format": 2')}`);
    expect(await build(project)).toEqual(['copy', 'gen']);
  });

  it('a damaged snapshot is no error: the build judges for itself', async () => {
    const project = await withSnapshot();
    writeFileSync(project.path(SNAPSHOT), 'spx-sealed nonsense');
    project.write('src/b.txt', 'B\n');
    expect(await build(project)).toEqual(['copy', 'gen']);
  });

  it('a snapshot sealed with this account key but for another project is not replayed here', async () => {
    const one = await withSnapshot();
    const two = createProject({ ...FILES, 'src/a.txt': 'different\n' }, PIPELINE);
    expect(await build(two)).toEqual(['copy', 'gen']);
    mkdirSync(two.path('.spx'), { recursive: true });
    cpSync(one.path(SNAPSHOT), two.path(SNAPSHOT));
    two.write('src/a.txt', 'edited\n');
    expect(await build(two)).toEqual(['copy', 'gen']);
  });

  it('a forged stamp, sealed with the key, still has to match the file: a replaced input is seen', async () => {
    const project = await withSnapshot();
    const snapshot = readSealed<{ files: string[]; fileStamps: string }>(project.path(SNAPSHOT));
    expect(snapshot.files).toContain('src/a.txt');
    writeSealed(project.path(SNAPSHOT), { ...snapshot, fileStamps: Buffer.alloc(Buffer.from(snapshot.fileStamps, 'base64').length).toString('base64') });
    project.write('src/a.txt', 'replaced\n');
    expect(await build(project)).toEqual(['copy', 'gen']);
  });

  it('a directory swapped for a symlink to itself moved out of the project: a context node leaves its files out', async () => {
    const yaml = `version: 1
nodes:
  bundle:
    kind: context
    files: { include: ["docs/**"], gitignore: false }
    output: bundle.xml
`;
    const project = await withSnapshot({ 'docs/guide/a.md': '# A\n', 'docs/guide/b.md': '# B\n', 'docs/top.md': '# Top\n' }, yaml);
    expect(project.read('bundle.xml')).toContain('docs/guide/a.md');
    const outside = path.join(os.tmpdir(), `spx-outside-${process.pid}-${Date.now()}`);
    renameSync(project.path('docs/guide'), outside);
    try {
      symlinkSync(outside, project.path('docs/guide'));
      const result = await project.spx(['build', '-o', 'plain']);
      expect(result.code, result.stdout + result.stderr).toBe(0);
      expect(result.stdout).toContain('1 ran');
      expect(project.read('bundle.xml')).not.toContain('docs/guide/a.md');
      expect(project.read('bundle.xml')).toContain('docs/top.md');
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });
});

describe('no snapshot is left where a replay could not say the same', () => {
  it('after a build that ran something, a dry run, a --force, or a failure', async () => {
    const project = createProject(FILES, PIPELINE);
    await build(project);
    expect(project.exists(SNAPSHOT)).toBe(false);
    expect((await project.spx(['build', '--dry-run'])).code).toBe(0);
    expect(project.exists(SNAPSHOT)).toBe(false);
    await build(project, ['--force', 'gen']);
    expect(project.exists(SNAPSHOT)).toBe(false);
    expect(await build(project)).toEqual([]);
    expect(project.exists(SNAPSHOT)).toBe(true);
    project.writeConfig(PIPELINE.replace('cat src/*.txt > gen.out', 'exit 3'));
    expect((await project.spx(['build'])).code).toBe(1);
    expect(project.exists(SNAPSHOT)).toBe(false);
  });

  it('for a pipeline with a model node, or a directory output', async () => {
    const model = createProject({ 'USER-SPEC.md': '# Spec\n\nAdd.\n' }, `version: 1
defaults: { provider: echo }
nodes:
  spec:
    kind: spec
    inputs: [USER-SPEC.md]
    output: AI-SPEC.md
`);
    await model.spx(['build']);
    expect((await model.spx(['build'])).code).toBe(0);
    expect(model.exists(SNAPSHOT)).toBe(false);
    const directory = createProject({ 'in.txt': 'x\n' }, `version: 1
nodes:
  out:
    kind: run
    command: mkdir -p dist && cp in.txt dist/
    inputs: [in.txt]
    outputs: [dist/]
`);
    await build(directory);
    expect(await build(directory)).toEqual([]);
    expect(existsSync(directory.path(SNAPSHOT))).toBe(false);
  });
});
