import { spawnSync } from 'node:child_process';
import { readFileSync, statSync, utimesSync } from 'node:fs';
import os from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupProjects, createProject, REPO_ROOT, SPX_BIN, statusOf, type TestProject } from './helpers/project.js';
import { readSealed, writeSealed } from './helpers/sealed.js';

afterEach(cleanupProjects);

/**
 * A diamond with a tail, plus an unrelated node:
 *
 *   src.txt → gen ─┬─ left (+ left.txt) ─┬─ join → final (dist/)
 *                  └─ right ─────────────┘
 *   notes/*.txt → other
 */
const DIAMOND = `version: 1
nodes:
  gen:
    kind: run
    command: echo gen >> runs.log && cp src.txt gen.out
    inputs: [src.txt]
    outputs: [gen.out]
  left:
    kind: run
    command: echo left >> runs.log && cat gen.out left.txt > left.out
    inputs: [left.txt]
    needs: [gen]
    outputs: [left.out]
  right:
    kind: run
    command: echo right >> runs.log && cat gen.out gen.out > right.out
    needs: [gen]
    outputs: [right.out]
  join:
    kind: run
    command: echo join >> runs.log && cat left.out right.out > join.out
    needs: [left, right]
    outputs: [join.out]
  final:
    kind: run
    command: echo final >> runs.log && mkdir -p dist && cp join.out dist/final.txt
    needs: [join]
    outputs: [dist/]
  other:
    kind: run
    command: echo other >> runs.log && cat notes/*.txt > other.out
    inputs: ["notes/*.txt"]
    outputs: [other.out]
`;

const DIAMOND_FILES = { 'src.txt': 'source\n', 'left.txt': 'left\n', 'notes/a.txt': 'a\n', 'notes/b.txt': 'b\n' };
const ALL = ['final', 'gen', 'join', 'left', 'other', 'right'];

/** A built diamond project with an empty run log. */
async function builtDiamond(): Promise<TestProject> {
  const project = createProject(DIAMOND_FILES, DIAMOND);
  await build(project);
  expect(project.takeRuns().sort()).toEqual(ALL);
  return project;
}

/** `spx build` that must succeed; returns the nodes that ran, sorted. */
async function build(project: TestProject, args: string[] = [], env?: Record<string, string | undefined>): Promise<string[]> {
  const result = await project.spx(['build', ...args], { env });
  expect(result.stderr).toBe('');
  expect(result.code, result.stdout).toBe(0);
  return project.peekRuns().sort();
}

describe('incremental builds', () => {
  it('a second build runs nothing', async () => {
    const project = await builtDiamond();
    expect(await build(project)).toEqual([]);
    expect(project.read('dist/final.txt')).toBe('source\nleft\nsource\nsource\n');
  });

  it('touching every input, and spx.yaml, reruns nothing', async () => {
    const project = await builtDiamond();
    const later = new Date(Date.now() + 5_000);
    for (const file of [...Object.keys(DIAMOND_FILES), 'spx.yaml']) utimesSync(project.path(file), later, later);
    expect(await build(project)).toEqual([]);
  });

  it('editing one input reruns exactly the nodes downstream of it', async () => {
    const project = await builtDiamond();

    project.write('left.txt', 'left, edited\n');
    expect(await build(project)).toEqual(['final', 'join', 'left']);
    project.takeRuns();

    project.write('src.txt', 'source, edited\n');
    expect(await build(project)).toEqual(['final', 'gen', 'join', 'left', 'right']);
    project.takeRuns();

    project.write('notes/b.txt', 'b, edited\n');
    expect(await build(project)).toEqual(['other']);
    project.takeRuns();

    // A new file matching a glob input is a change too.
    project.write('notes/c.txt', 'c\n');
    expect(await build(project)).toEqual(['other']);
    expect(project.read('dist/final.txt')).toBe('source, edited\nleft, edited\nsource, edited\nsource, edited\n');
  });

  it("editing one node's command in spx.yaml reruns only that node and its dependents", async () => {
    const project = await builtDiamond();
    project.writeConfig(DIAMOND.replace('cat gen.out gen.out > right.out', 'cat gen.out gen.out gen.out > right.out'));
    expect(await build(project)).toEqual(['final', 'join', 'right']);
    project.takeRuns();

    project.writeConfig(
      DIAMOND.replace('cat gen.out gen.out > right.out', 'cat gen.out gen.out gen.out > right.out').replace(
        'cat notes/*.txt > other.out',
        'cat notes/*.txt notes/*.txt > other.out',
      ),
    );
    expect(await build(project)).toEqual(['other']);
  });

  it('reformatting spx.yaml or editing its comments reruns nothing', async () => {
    const project = await builtDiamond();
    // The same pipeline: other indentation, keys reordered, flow style for
    // some nodes and block lists for others, comments everywhere.
    const reformatted = `# The diamond, rewritten by hand.
nodes:
    other: {outputs: [other.out], inputs: ['notes/*.txt'], command: "echo other >> runs.log && cat notes/*.txt > other.out", kind: run}
    final:
        needs:
            - join
        outputs:
            - dist/
        command: >-
            echo final >> runs.log && mkdir -p dist && cp join.out dist/final.txt
        kind: run   # the last step
    join: {kind: run, needs: [left, right], outputs: [join.out], command: 'echo join >> runs.log && cat left.out right.out > join.out'}
    right:
        kind: run
        outputs: [right.out]
        needs: [gen]
        command: "echo right >> runs.log && cat gen.out gen.out > right.out"
    left:
        outputs: [left.out]
        needs: [gen]
        inputs: [left.txt]
        command: echo left >> runs.log && cat gen.out left.txt > left.out
        kind: run
    gen:
        # where it all starts
        kind: run
        inputs: [ src.txt ]
        outputs: [ gen.out ]
        command: echo gen >> runs.log && cp src.txt gen.out
version: 1
`;
    project.writeConfig(reformatted);
    expect(await build(project)).toEqual([]);

    project.writeConfig(reformatted.replace('# where it all starts', '# where it all begins\n        # (a second comment)'));
    expect(await build(project)).toEqual([]);
  });

  it('early cutoff: an upstream that reruns and writes the same bytes leaves its dependent fresh', async () => {
    const project = createProject(
      { 'words.txt': 'pear\napple\nfig\n' },
      `version: 1
nodes:
  sorted:
    kind: run
    command: echo sorted >> runs.log && sort words.txt > sorted.out
    inputs: [words.txt]
    outputs: [sorted.out]
  count:
    kind: run
    command: echo count >> runs.log && wc -l < sorted.out > count.out
    needs: [sorted]
    outputs: [count.out]
`,
    );
    expect(await build(project)).toEqual(['count', 'sorted']);
    project.takeRuns();

    project.write('words.txt', 'fig\npear\napple\n');
    expect(await build(project)).toEqual(['sorted']);
    project.takeRuns();

    // The cutoff is not a blind spot: a real change in the output still flows down.
    project.write('words.txt', 'fig\npear\napple\nkiwi\n');
    expect(await build(project)).toEqual(['count', 'sorted']);
    expect(project.read('count.out').trim()).toBe('4');
  });

  it('`uses` is order-only: the used node is built first, but its changes alone do not rerun the user', async () => {
    // `app` is declared first, so only the `uses` edge can put `docs` before it.
    const project = createProject(
      { 'docs.txt': 'docs\n', 'app.txt': 'app\n' },
      `version: 1
nodes:
  app:
    kind: run
    command: echo app >> runs.log && cat docs.out app.txt > app.out
    inputs: [app.txt]
    uses: [docs]
    outputs: [app.out]
  docs:
    kind: run
    command: echo docs >> runs.log && cp docs.txt docs.out
    inputs: [docs.txt]
    outputs: [docs.out]
`,
    );
    const first = await project.spx(['build', 'app', '-j', '2']);
    expect(first.code, first.stdout + first.stderr).toBe(0);
    expect(project.takeRuns()).toEqual(['docs', 'app']);

    project.write('docs.txt', 'docs, edited\n');
    expect(await build(project)).toEqual(['docs']);
    project.takeRuns();
    expect((await statusOf(project)).app).toEqual({ state: 'fresh', reasons: [] });

    // Its own inputs still trigger it, and it then reads the used node's new output.
    project.write('app.txt', 'app, edited\n');
    expect(await build(project)).toEqual(['app']);
    expect(project.read('app.out')).toBe('docs, edited\napp, edited\n');
  });

  it('a declared environment variable reruns the node when it changes; an undeclared one does not; the value is not recorded', async () => {
    const project = createProject(
      {},
      `version: 1
nodes:
  greet:
    kind: run
    command: echo greet >> runs.log && echo "hello $GREETING" > greet.out
    env: [GREETING]
    outputs: [greet.out]
`,
    );
    const secret = 'sekrit-value-4711';
    expect(await build(project, [], { GREETING: secret, UNRELATED: 'one' })).toEqual(['greet']);
    project.takeRuns();

    expect(await build(project, [], { GREETING: secret, UNRELATED: 'two' })).toEqual([]);

    expect(await build(project, [], { GREETING: `${secret}-2`, UNRELATED: 'two' })).toEqual(['greet']);
    project.takeRuns();

    // Unset differs from set.
    expect(await build(project, [], { GREETING: undefined })).toEqual(['greet']);
    expect(project.lockText()).not.toContain('sekrit');
  });
});

describe('the stat cache', () => {
  const PROJECT = `version: 1
nodes:
  copy:
    kind: run
    command: echo copy >> runs.log && cat in.txt data/*.txt > copy.out
    inputs: [in.txt, "data/*.txt"]
    outputs: [copy.out]
`;
  const FILES = { 'in.txt': 'input one\n', 'data/x.txt': 'x\n', 'data/y.txt': 'y\n' };

  it('a no-op build trusts the stat cache instead of reading the input again', async () => {
    const project = createProject(FILES, PROJECT);
    expect(await build(project)).toEqual(['copy']);
    // Give in.txt a wrong hash in the stat cache. If spx read in.txt, it
    // would find its true hash and call the node fresh; trusting the cache
    // (size, mtime, ctime and inode unchanged) it must see a changed input.
    const cacheFile = project.path('.spx/stat-cache.json');
    const cache = readSealed<{ entries: Record<string, unknown[]> }>(cacheFile);
    expect(cache.entries['in.txt']).toBeDefined();
    cache.entries['in.txt']![4] = '0'.repeat(64);
    writeSealed(cacheFile, cache);

    expect((await statusOf(project)).copy).toEqual({ state: 'stale', reasons: ['input changed: in.txt'] });
  });

  it('an input rewritten with other bytes of the same size and its old mtime is still noticed', async () => {
    const project = createProject(FILES, PROJECT);
    expect(await build(project)).toEqual(['copy']);
    project.takeRuns();
    // `touch -r` copies the mtime to the nanosecond, which a JS Date cannot.
    const before = statSync(project.path('in.txt'), { bigint: true });
    spawnSync('cp', ['-p', 'in.txt', 'mtime-reference'], { cwd: project.dir });
    project.write('in.txt', 'input two\n');
    expect(spawnSync('touch', ['-r', 'mtime-reference', 'in.txt'], { cwd: project.dir }).status).toBe(0);
    const after = statSync(project.path('in.txt'), { bigint: true });
    expect([after.size, after.mtimeNs, after.ino]).toEqual([before.size, before.mtimeNs, before.ino]);

    expect(await build(project)).toEqual(['copy']);
    expect(project.read('copy.out')).toBe('input two\nx\ny\n');
  });

  it.skipIf(!straceWorks())('a no-op build opens no input or output file (strace)', async () => {
    const project = createProject(FILES, PROJECT);
    expect(await build(project)).toEqual(['copy']);
    const trace = project.path('trace.txt');
    const result = spawnSync('strace', ['-f', '-qq', '-e', 'trace=open,openat,openat2', '-o', trace, process.execPath, SPX_BIN, 'build'], {
      cwd: project.dir,
      encoding: 'utf8',
      env: { ...process.env, CI: 'true' },
    });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain('0 ran, 1 fresh');
    const opened = readFileSync(trace, 'utf8')
      .split('\n')
      .filter((line) => /open/.test(line) && !/= -1 /.test(line));
    // The trace does see the project's own state files: it is the right trace.
    expect(opened.some((line) => line.includes('spx.lock'))).toBe(true);
    for (const file of ['in.txt', 'data/x.txt', 'data/y.txt', 'copy.out']) {
      expect(opened.filter((line) => line.includes(`${project.dir}/${file}"`))).toEqual([]);
    }
  });
});

describe('spx.lock', () => {
  it('is byte-identical for the same project built in two directories, and holds no absolute path', async () => {
    const files = { ...DIAMOND_FILES, 'docs.txt': 'docs\n' };
    const yaml = DIAMOND.replace('    outputs: [dist/]\n', '    outputs: [dist/]\n    uses: [docs]\n    env: [STAGE]\n').concat(`  docs:
    kind: run
    command: echo docs >> runs.log && cp docs.txt docs.out
    inputs: [docs.txt]
    outputs: [docs.out]
`);
    const one = createProject(files, yaml);
    const two = createProject(files, yaml);
    await build(one, ['-j', '1'], { STAGE: 'test' });
    // Another order of work: the lock must not reflect it.
    await build(two, ['-j', '2', 'other', 'docs'], { STAGE: 'test' });
    await build(two, ['-j', '2'], { STAGE: 'test' });
    expect(two.lockText()).toBe(one.lockText());
    expect(Object.keys(one.lock().nodes).sort()).toEqual([...ALL, 'docs'].sort());
    for (const absolute of [one.dir, os.tmpdir(), REPO_ROOT, os.homedir()]) expect(one.lockText()).not.toContain(absolute);
    expect(one.lockText()).not.toMatch(/"\//);
  });
});

function straceWorks(): boolean {
  return spawnSync('strace', ['-o', '/dev/null', 'true']).status === 0;
}
