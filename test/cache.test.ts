import { existsSync, readFileSync, realpathSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  blobFile,
  cleanupCacheDirs,
  cloneProject,
  commitAll,
  entriesIn,
  entryFile,
  filesBelow,
  snapshot,
  tempDir,
} from './helpers/cache.js';
import { FIVE_NODE_OUTPUTS, FIVE_NODES, FIVE_NODES_YAML, fiveNodeFiles } from './helpers/fixtures.js';
import { cleanupProjects, createProject, jsonEvents, statusOf, type SpxResult, type TestProject } from './helpers/project.js';

afterEach(async () => {
  await cleanupProjects();
  cleanupCacheDirs();
});

/** The five-node fixture of helpers/fixtures.ts, as a whole spx.yaml. */
const PIPELINE = `version: 1\n${FIVE_NODES_YAML}`;

const OUTPUTS = FIVE_NODE_OUTPUTS;
const NODES = FIVE_NODES;
const TOOL_SH = '#!/bin/sh\necho hello\n';
const fixtureFiles = fiveNodeFiles;

/** Checkout A: the fixture, built once with its default cache (.spx/cache), committed to git. */
async function builtCheckout(options: { ignoreLock?: boolean; cacheDir?: string } = {}): Promise<TestProject> {
  const project = createProject(fixtureFiles(options), PIPELINE);
  await build(project, ['-j', '2', ...(options.cacheDir ? ['--cache-dir', options.cacheDir] : [])]);
  expect(project.takeRuns().sort()).toEqual(NODES);
  commitAll(project);
  return project;
}

/** `spx build` that must succeed; returns its stdout. */
async function build(project: TestProject, args: string[] = [], env?: Record<string, string | undefined>): Promise<string> {
  const result = await project.spx(['build', ...args], { env });
  expect(result.code, result.stdout + result.stderr).toBe(0);
  expect(result.stderr).toBe('');
  return result.stdout;
}

async function spxOk(project: TestProject, args: string[], env?: Record<string, string | undefined>): Promise<SpxResult> {
  const result = await project.spx(args, { env });
  expect(result.code, `spx ${args.join(' ')}: ${result.stdout}${result.stderr}`).toBe(0);
  return result;
}

interface VerifyReport {
  blobsChecked: number;
  corruptBlobs: string[];
  brokenEntries: string[];
}

async function verify(project: TestProject, cacheDir: string): Promise<{ code: number | null; report: VerifyReport }> {
  const result = await project.spx(['cache', 'verify', '--json', '--cache-dir', cacheDir]);
  return { code: result.code, report: JSON.parse(result.stdout) as VerifyReport };
}

async function expectVerifyClean(project: TestProject, cacheDir: string): Promise<void> {
  const { code, report } = await verify(project, cacheDir);
  expect(report.corruptBlobs).toEqual([]);
  expect(report.brokenEntries).toEqual([]);
  expect(report.blobsChecked).toBeGreaterThan(0);
  expect(code).toBe(0);
}

function removeOutputs(project: TestProject): void {
  for (const output of OUTPUTS) rmSync(project.path(output), { recursive: true, force: true });
}

describe('restoring from the cache', () => {
  it.each([
    { lock: 'committed', via: '--cache-dir' },
    { lock: 'not committed', via: 'SPX_CACHE_DIR' },
  ])('a fresh clone (spx.lock $lock) pointed at the cache by $via restores every node, runs nothing, writes identical bytes', async ({ lock, via }) => {
    const a = await builtCheckout({ ignoreLock: lock === 'not committed' });
    const cacheDir = a.path('.spx/cache');
    const b = cloneProject(a);
    expect(b.exists('.spx')).toBe(false);
    expect(b.exists('gen.out')).toBe(false);
    expect(b.exists('spx.lock')).toBe(lock === 'committed');
    const cacheBefore = filesBelow(cacheDir);

    const stdout =
      via === '--cache-dir' ? await build(b, ['-j', '2', '--cache-dir', cacheDir]) : await build(b, ['-j', '2'], { SPX_CACHE_DIR: cacheDir });

    expect(b.takeRuns()).toEqual([]);
    for (const node of NODES) expect(stdout).toContain(`${node} restored from cache`);
    expect(stdout).toMatch(/0 ran, 5 restored from cache/);
    const restored = snapshot(b, OUTPUTS);
    expect(restored).toEqual(snapshot(a, OUTPUTS));
    expect(Object.keys(restored)).toHaveLength(7);
    expect(restored['tool.sh']!.mode & 0o111).toBe(0o111);
    // Same fingerprints and output hashes: the keys did not depend on where A was.
    expect(b.lockText()).toBe(a.lockText());
    // Reading a cache adds nothing to it, and makes no cache of the clone's own.
    expect(filesBelow(cacheDir)).toEqual(cacheBefore);
    expect(b.exists('.spx/cache')).toBe(false);
    // And the restored state is the built state: nothing is left to do.
    expect(Object.values(await statusOf(b)).map((s) => s.state)).toEqual(NODES.map(() => 'fresh'));
  });

  it('an empty directory output comes back from the cache, and the node is fresh afterwards', async () => {
    const project = createProject(
      {},
      `version: 1
nodes:
  empty:
    kind: run
    command: echo empty >> runs.log && mkdir -p logs
    outputs: [logs/]
`,
    );
    await build(project);
    rmSync(project.path('logs'), { recursive: true });

    expect(await build(project)).toContain('empty restored from cache');
    expect(existsSync(project.path('logs'))).toBe(true);
    expect((await statusOf(project)).empty!.state).toBe('fresh');
    expect(project.takeRuns()).toEqual(['empty']);
  });
});

describe('a damaged cache', () => {
  it.each([
    { damage: 'corrupt', problem: 'is corrupt', apply: (file: string) => writeFileSync(file, TOOL_SH.replace('hello', 'HACKED')) },
    { damage: 'truncated', problem: 'is corrupt', apply: (file: string) => writeFileSync(file, TOOL_SH.slice(0, 10)) },
    { damage: 'missing', problem: 'is missing', apply: (file: string) => rmSync(file) },
  ])('a $damage blob is a miss: the node reruns with a warning, and verify is clean afterwards', async ({ problem, apply }) => {
    const a = await builtCheckout();
    const cacheDir = a.path('.spx/cache');
    const blob = blobFile(cacheDir, TOOL_SH);
    expect(readFileSync(blob, 'utf8')).toBe(TOOL_SH);
    apply(blob);
    const b = cloneProject(a);

    const stdout = await build(b, ['-j', '2', '--cache-dir', cacheDir]);

    expect(b.takeRuns()).toEqual(['tool']);
    expect(stdout).toMatch(new RegExp(`! tool: cache entry unusable, running instead: blob \\w+ of tool\\.sh ${problem}`));
    expect(b.read('tool.sh')).toBe(TOOL_SH);
    for (const node of ['gen', 'site', 'report', 'notes']) expect(stdout).toContain(`${node} restored from cache`);
    // The rerun stored the right bytes again.
    expect(readFileSync(blob, 'utf8')).toBe(TOOL_SH);
    await expectVerifyClean(b, cacheDir);
    // And the healed cache restores the node.
    rmSync(b.path('tool.sh'));
    expect(await build(b, ['--cache-dir', cacheDir])).toContain('tool restored from cache');
    expect(b.takeRuns()).toEqual([]);
  });

  it('verify removes a corrupt blob and every entry that needs it, exits 1, and is clean when run again', async () => {
    const a = await builtCheckout();
    const cacheDir = a.path('.spx/cache');
    // gen.out and site/index.txt hold the same bytes: one blob, two entries.
    writeFileSync(blobFile(cacheDir, 'source\n'), 'sourcE\n');
    const lock = a.lock();

    const { code, report } = await verify(a, cacheDir);

    expect(code).toBe(1);
    expect(report.corruptBlobs).toEqual([path.basename(blobFile(cacheDir, 'source\n'))]);
    expect(report.brokenEntries.sort()).toEqual([lock.nodes.gen!.fingerprint, lock.nodes.site!.fingerprint].sort());
    expect(existsSync(blobFile(cacheDir, 'source\n'))).toBe(false);
    expect(entriesIn(cacheDir).sort()).toEqual([lock.nodes.notes!.fingerprint, lock.nodes.report!.fingerprint, lock.nodes.tool!.fingerprint].sort());
    await expectVerifyClean(a, cacheDir);
  });

  it('an entry naming a file outside its output is a miss, and nothing is written outside the project', async () => {
    const a = await builtCheckout();
    const cacheDir = a.path('.spx/cache');
    const entryPath = entryFile(cacheDir, a.lock().nodes.tool!.fingerprint);
    const entry = JSON.parse(readFileSync(entryPath, 'utf8')) as { outputs: Record<string, { files: { path: string }[] }> };
    const escapee = `../escaped-${a.marker}.sh`;
    entry.outputs['tool.sh']!.files[0]!.path = escapee;
    writeFileSync(entryPath, JSON.stringify(entry));
    rmSync(a.path('tool.sh'));
    try {
      const stdout = await build(a);
      expect(existsSync(a.path(escapee))).toBe(false);
      expect(stdout).toContain('! tool: cache entry unusable, running instead');
      expect(a.takeRuns()).toEqual(['tool']);
      expect(a.read('tool.sh')).toBe(TOOL_SH);
    } finally {
      rmSync(a.path(escapee), { force: true });
    }
  });
});

describe('--cache-only and --no-cache', () => {
  it('--cache-only runs the run nodes the cache lacks (they spend no token) and restores the rest', async () => {
    const a = await builtCheckout();
    const b = cloneProject(a);
    b.write('src.txt', 'changed\n');
    b.write('notes.txt', 'c\n');

    const result = await b.spx(['build', '-j', '1', '--cache-only', '--cache-dir', a.path('.spx/cache')]);

    expect(result.code, result.stdout + result.stderr).toBe(0);
    // gen and notes miss and run; site and report, new fingerprints behind gen, run too. The model-node misses: test/ci-recipe.test.ts.
    expect(b.takeRuns().sort()).toEqual(['gen', 'notes', 'report', 'site']);
    expect(result.stderr).not.toContain('--cache-only');
    expect(b.read('site/index.txt')).toBe('changed\n');
  });

  it('--no-cache reruns every node and stores nothing', async () => {
    const a = await builtCheckout();
    const cacheDir = a.path('.spx/cache');
    const before = filesBelow(cacheDir);
    const b = cloneProject(a);
    // New fingerprints for gen, site and report: a store would add entries.
    b.write('src.txt', 'changed\n');

    await build(b, ['-j', '2', '--no-cache'], { SPX_CACHE_DIR: cacheDir });

    expect(b.takeRuns().sort()).toEqual(NODES);
    expect(filesBelow(cacheDir)).toEqual(before);
    expect(b.exists('.spx/cache')).toBe(false);
    expect(b.read('site/index.txt')).toBe('changed\n');
  });
});

describe('hand-edited outputs', () => {
  it('an edit of a fresh node is kept, the node does not rerun, its dependents rerun on the edit, and status says so', async () => {
    const a = await builtCheckout();
    a.write('gen.out', 'edited by hand\n');

    await build(a, ['-j', '2']);

    expect(a.takeRuns().sort()).toEqual(['report', 'site']);
    expect(a.read('gen.out')).toBe('edited by hand\n');
    expect(a.read('site/index.txt')).toBe('edited by hand\n');
    expect(a.read('report.out')).toBe('edited by hand\n' + TOOL_SH);
    const status = await spxOk(a, ['status']);
    expect(status.stdout).toMatch(/^gen +fresh \(edited by hand: gen\.out\)$/m);
    const json = JSON.parse((await spxOk(a, ['status', '--json'])).stdout) as { nodes: { name: string; handEdited: string[] }[] };
    expect(json.nodes.find((n) => n.name === 'gen')!.handEdited).toEqual(['gen.out']);
    // A later build keeps it too.
    await build(a);
    expect(a.takeRuns()).toEqual([]);
    expect(a.read('gen.out')).toBe('edited by hand\n');
  });

  it('--force NODE regenerates a hand-edited output after copying the edit to .spx/backups and printing where', async () => {
    const a = await builtCheckout();
    a.write('gen.out', 'edited by hand\n');
    await build(a, ['-j', '2']);
    a.takeRuns();

    const stdout = await build(a, ['--force', 'gen']);

    const backup = /! gen: gen\.out was edited by hand; saved a copy to (\S+)/.exec(stdout);
    expect(backup, stdout).not.toBeNull();
    expect(backup![1]).toMatch(/^\.spx\/backups\/gen\/[^/]+\/gen\.out$/);
    expect(a.read(backup![1]!)).toBe('edited by hand\n');
    // --force means run: the cache must not stand in for the work asked for.
    expect(a.takeRuns()).toEqual(['gen']);
    expect(a.read('gen.out')).toBe('source\n');
    expect((await spxOk(a, ['status'])).stdout).not.toContain('edited by hand');
    // Downstream goes back to what it was before the edit, which was cached.
    const after = await build(a, ['-j', '2']);
    expect(after).toContain('site restored from cache');
    expect(after).toContain('report restored from cache');
    expect(a.takeRuns()).toEqual([]);
    expect(a.read('site/index.txt')).toBe('source\n');
  });

  it('an edited output of a node that is stale anyway is backed up before it is regenerated (file and directory)', async () => {
    const a = await builtCheckout();
    a.write('gen.out', 'edited by hand\n');
    a.write('site/pages/one.txt', 'my own page\n');
    a.write('src.txt', 'new source\n');

    const stdout = await build(a, ['-j', '2']);

    expect(a.takeRuns().sort()).toEqual(['gen', 'report', 'site']);
    const genBackup = /! gen: gen\.out was edited by hand; saved a copy to (\S+)/.exec(stdout);
    const siteBackup = /! site: site\/ was edited by hand; saved a copy to (\S+)/.exec(stdout);
    expect(genBackup, stdout).not.toBeNull();
    expect(siteBackup, stdout).not.toBeNull();
    expect(a.read(genBackup![1]!)).toBe('edited by hand\n');
    expect(a.read(path.join(siteBackup![1]!, 'pages/one.txt'))).toBe('my own page\n');
    expect(siteBackup![1]).toMatch(/^\.spx\/backups\/site\/[^/]+\/site\/?$/);
    expect(a.read('gen.out')).toBe('new source\n');
    expect(a.read('site/pages/one.txt')).toBe('page 1\n');
  });
});

/**
 * Twenty nodes, each writing a directory of three files; n10–n19 also need
 * n00–n09. Every node copies shared.txt, so both builds store that one blob
 * many times over.
 */
function wideProject(): TestProject {
  const files: Record<string, string> = { 'shared.txt': 'shared by every node\n', '.gitignore': 'runs.log\n.spx/\nout/\n' };
  let yaml = 'version: 1\nnodes:\n';
  for (let i = 0; i < 20; i++) {
    const name = `n${String(i).padStart(2, '0')}`;
    const upstream = i >= 10 ? `n${String(i - 10).padStart(2, '0')}` : undefined;
    files[`in/${name}.txt`] = `input of ${name}\n`;
    yaml += `  ${name}:
    kind: run
    command: >-
      echo ${name} >> runs.log && mkdir -p out/${name} && cat in/${name}.txt shared.txt > out/${name}/a.txt &&
      cp shared.txt out/${name}/shared.txt && echo ${name} > out/${name}/name.txt${upstream ? ` && cat out/${upstream}/a.txt >> out/${name}/a.txt` : ''}
    inputs: [in/${name}.txt, shared.txt]
    outputs: [out/${name}/]
${upstream ? `    needs: [${upstream}]\n` : ''}`;
  }
  const project = createProject(files, yaml);
  commitAll(project);
  return project;
}

describe('one cache directory shared by several builds', () => {
  it('two builds of overlapping pipelines at once both succeed, leave the cache valid, and a third clone restores from it', async () => {
    const cacheDir = tempDir();
    const p = wideProject();
    const q = cloneProject(p);
    // Half of q's nodes are p's; the other half have other inputs.
    for (let i = 5; i < 20; i += 2) q.write(`in/n${String(i).padStart(2, '0')}.txt`, `q's own input ${i}\n`);

    const [first, second] = await Promise.all([
      p.start(['build', '-j', '2', '--cache-dir', cacheDir]).done,
      q.start(['build', '-j', '2', '--cache-dir', cacheDir]).done,
    ]);

    expect(first.code, first.stdout + first.stderr).toBe(0);
    expect(second.code, second.stdout + second.stderr).toBe(0);
    expect(first.stderr + second.stderr).toBe('');
    for (const project of [p, q]) {
      expect(Object.values(await statusOf(project)).every((s) => s.state === 'fresh')).toBe(true);
    }
    await expectVerifyClean(p, cacheDir);
    expect(filesBelow(cacheDir).filter((file) => file.includes('.tmp-'))).toEqual([]);

    const r = cloneProject(p);
    const stdout = await build(r, ['-j', '2', '--cache-dir', cacheDir]);
    expect(r.takeRuns()).toEqual([]);
    expect(stdout).toMatch(/0 ran, 20 restored from cache/);
    expect(snapshot(r, ['out/'])).toEqual(snapshot(p, ['out/']));
  });
});

describe('spx cache', () => {
  it('stats counts entries, and the last build hits (restored nodes) and misses (nodes that ran)', async () => {
    const a = await builtCheckout();
    const cacheDir = a.path('.spx/cache');
    const afterA = JSON.parse((await spxOk(a, ['cache', 'stats', '--json'])).stdout) as {
      entries: number;
      lastBuild: { hits: number; misses: number };
    };
    expect(afterA.entries).toBe(5);
    expect(afterA.lastBuild).toMatchObject({ hits: 0, misses: 5 });

    const b = cloneProject(a);
    b.write('notes.txt', 'z\n');
    await build(b, ['-j', '2', '--cache-dir', cacheDir]);
    expect(b.takeRuns()).toEqual(['notes']);

    const stats = await spxOk(b, ['cache', 'stats', '--cache-dir', cacheDir]);
    expect(stats.stdout).toMatch(/^entries: +6$/m);
    expect(stats.stdout).toMatch(/^last build: 4 hits, 1 miss,/m);
    const json = JSON.parse((await spxOk(b, ['cache', 'stats', '--json', '--cache-dir', cacheDir])).stdout) as {
      directory: string;
      lastBuild: { hits: number; misses: number };
    };
    expect(json.lastBuild).toMatchObject({ hits: 4, misses: 1 });
    expect(json.directory).toBe(cacheDir);
  });

  /** A built checkout whose cache also holds the entries of an older src.txt: three entries spx.lock no longer references. */
  async function twoGenerations(): Promise<TestProject> {
    const a = await builtCheckout();
    a.write('src.txt', 'new source\n');
    await build(a, ['-j', '2']);
    expect(a.takeRuns().sort()).toEqual(['gen', 'report', 'site']);
    expect(entriesIn(a.path('.spx/cache'))).toHaveLength(8);
    return a;
  }

  function referenced(project: TestProject): string[] {
    return Object.values(project.lock().nodes)
      .map((entry) => entry.fingerprint)
      .sort();
  }

  it('prune --max-size 0 removes every entry spx.lock does not reference, keeps the rest, and the project still restores', async () => {
    const a = await twoGenerations();
    const cacheDir = a.path('.spx/cache');

    const result = await spxOk(a, ['cache', 'prune', '--max-size', '0']);

    expect(result.stdout).toMatch(/^removed 3 entries and \d+ blobs/);
    expect(entriesIn(cacheDir).sort()).toEqual(referenced(a));
    expect(existsSync(blobFile(cacheDir, 'source\n'))).toBe(false);
    expect(existsSync(blobFile(cacheDir, 'new source\n'))).toBe(true);
    await expectVerifyClean(a, cacheDir);
    removeOutputs(a);
    expect(await build(a, ['-j', '2'])).toMatch(/0 ran, 5 restored from cache/);
    expect(a.takeRuns()).toEqual([]);
  });

  it('prune keeps what the journal of a killed build records, not only what spx.lock does', async () => {
    const a = await twoGenerations();
    const cacheDir = a.path('.spx/cache');
    const kept = referenced(a);
    // As a build killed before it rewrote spx.lock leaves things: its records
    // only in the journal, spx.lock still the previous one (here: empty).
    const journal = Object.entries(a.lock().nodes).map(([node, entry]) => JSON.stringify({ node, entry }));
    writeFileSync(a.path('.spx/journal.jsonl'), journal.join('\n') + '\n');
    rmSync(a.path('spx.lock'));

    await spxOk(a, ['cache', 'prune', '--max-size', '0']);

    expect(entriesIn(cacheDir).sort()).toEqual(kept);
  });

  it('stats after a --no-cache build shows that build, not the one before it', async () => {
    const a = await builtCheckout();
    const b = cloneProject(a);
    await build(b, ['-j', '2', '--cache-dir', a.path('.spx/cache')]);
    b.write('notes.txt', 'z\n');
    await build(b, ['--no-cache', '--cache-dir', a.path('.spx/cache')]);
    const json = JSON.parse((await spxOk(b, ['cache', 'stats', '--json', '--cache-dir', a.path('.spx/cache')])).stdout) as {
      lastBuild: { hits: number; misses: number };
    };
    expect(json.lastBuild).toMatchObject({ hits: 0, misses: 1 });
  });

  it('--force with --cache-only is a usage error: one says run again, the other run nothing', async () => {
    const a = await builtCheckout();
    const result = await a.spx(['build', '--force', '--cache-only']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--force and --cache-only contradict each other');
    expect(a.takeRuns()).toEqual([]);
  });

  it('prune --max-age removes entries unused for longer, never what spx.lock references', async () => {
    const a = await twoGenerations();
    const cacheDir = a.path('.spx/cache');
    const longAgo = new Date(Date.now() - 3 * 86_400_000);
    for (const fingerprint of entriesIn(cacheDir)) utimesSync(entryFile(cacheDir, fingerprint), longAgo, longAgo);

    expect((await spxOk(a, ['cache', 'prune', '--max-age', '2d'])).stdout).toMatch(/^removed 3 entries/);
    expect(entriesIn(cacheDir).sort()).toEqual(referenced(a));
  });

  it('prune --max-age with a malformed value is a usage error (exit 2) that removes nothing', async () => {
    const a = await twoGenerations();
    const before = filesBelow(a.path('.spx/cache'));

    for (const value of ['ten days', '30x', '-1d', '']) {
      const result = await a.spx(['cache', 'prune', '--max-age', value, '--max-size', '0']);
      expect(result.code, value).toBe(2);
      expect(result.stderr, value).toContain('--max-age');
    }
    expect(filesBelow(a.path('.spx/cache'))).toEqual(before);
  });

  it('path prints .spx/cache by default, else SPX_CACHE_DIR, and --cache-dir wins over both', async () => {
    const a = createProject(fixtureFiles(), PIPELINE);
    const root = realpathSync(a.dir);
    const pathOf = async (args: string[], env?: Record<string, string | undefined>): Promise<string> =>
      (await spxOk(a, ['cache', 'path', ...args], { SPX_CACHE_DIR: undefined, ...env })).stdout.trim();

    expect(await pathOf([])).toBe(path.join(root, '.spx/cache'));
    expect(await pathOf([], { SPX_CACHE_DIR: '/srv/spx-cache' })).toBe('/srv/spx-cache');
    expect(await pathOf(['--cache-dir', '/mnt/other'], { SPX_CACHE_DIR: '/srv/spx-cache' })).toBe('/mnt/other');
    expect(await pathOf(['--cache-dir', 'relative/cache'])).toBe(path.join(root, 'relative/cache'));
    expect(await pathOf([], { SPX_CACHE_DIR: '' })).toBe(path.join(root, '.spx/cache'));
  });
});

describe('portable cache keys', () => {
  it('no entry or blob holds the absolute path of the project, and a clone computes the same keys', async () => {
    const cacheDir = tempDir();
    const a = await builtCheckout({ ignoreLock: true, cacheDir });
    const needles = [a.dir, realpathSync(a.dir), path.basename(a.dir)];
    for (const file of filesBelow(cacheDir)) {
      const text = readFileSync(path.join(cacheDir, file), 'utf8');
      for (const needle of needles) expect(text, `${file} mentions ${needle}`).not.toContain(needle);
    }
    expect(entriesIn(cacheDir).sort()).toEqual(referenced(a));

    // Built from scratch elsewhere, without the cache: the same fingerprints.
    const b = cloneProject(a);
    await build(b, ['--no-cache']);
    expect(b.lockText()).toBe(a.lockText());

    function referenced(project: TestProject): string[] {
      return Object.values(project.lock().nodes)
        .map((entry) => entry.fingerprint)
        .sort();
    }
  });
});
