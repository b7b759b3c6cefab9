import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { blobFile, cleanupCacheDirs, cloneProject, commitAll, entriesIn, entryFile, filesBelow, sha256, tempDir } from './helpers/cache.js';
import { cleanupProjects, createProject, type SpxResult, type TestProject } from './helpers/project.js';
import { startRemoteCacheServer, stopRemoteCacheServers, type RemoteCacheServer } from './helpers/remote-cache.js';

afterEach(async () => {
  await cleanupProjects();
  cleanupCacheDirs();
});

/**
 * `a` writes a file, `g` a directory; both depend on V. Built with V=1 and
 * then V=2, the cache holds a V=1 entry that `V=1 spx build` would restore:
 * the one an attacker with write access to the cache directory replaces.
 */
const NODES = `nodes:
  a:
    kind: run
    command: echo "gen $V" > out.txt && echo a >> runs.log
    env: [V]
    outputs: [out.txt]
  g:
    kind: run
    command: test ! -L gen && mkdir -p gen && echo "g $V" > gen/one.txt && echo g >> runs.log
    env: [V]
    outputs: [gen/]
`;

const SOURCES = { 'src/main.ts': 'export const precious = 1;\n', '.gitignore': '.spx/\nruns.log\n' };

interface Entry {
  format: number;
  outputs: Record<string, { hash: string; files: { path: string; hash: string; mode: number }[] }>;
  cost: { seconds: number };
  metrics?: Record<string, unknown>;
}

async function build(project: TestProject, v: string, env: Record<string, string | undefined> = {}): Promise<SpxResult> {
  return project.spx(['build'], { env: { V: v, ...env } });
}

async function buildOk(project: TestProject, v: string, env: Record<string, string | undefined> = {}): Promise<string> {
  const result = await build(project, v, env);
  expect(result.code, result.stdout + result.stderr).toBe(0);
  expect(result.stderr).toBe('');
  return result.stdout;
}

/** The project built with V=1 then V=2, committed to git; the V=1 fingerprints of its nodes. */
async function builtTwice(): Promise<{ project: TestProject; v1: Record<string, string>; cacheDir: string }> {
  const project = createProject(SOURCES, `version: 1\n${NODES}`);
  commitAll(project);
  await buildOk(project, '1');
  const v1 = { a: project.lock().nodes.a!.fingerprint, g: project.lock().nodes.g!.fingerprint };
  await buildOk(project, '2');
  project.takeRuns();
  expect(project.read('out.txt')).toBe('gen 2\n');
  return { project, v1, cacheDir: project.path('.spx/cache') };
}

/** Puts an entry and its blobs in place, as someone who can write to the cache directory would. */
function forge(cacheDir: string, fingerprint: string, entry: Entry, blobs: (string | Buffer)[] = []): void {
  for (const blob of blobs) {
    mkdirSync(path.dirname(blobFile(cacheDir, blob)), { recursive: true });
    writeFileSync(blobFile(cacheDir, blob), blob);
  }
  writeFileSync(entryFile(cacheDir, fingerprint), JSON.stringify(entry));
}

function fileOutput(output: string, content: string, mode = 0o644): Entry['outputs'] {
  const hash = sha256(content);
  return { [output]: { hash, files: [{ path: output, hash, mode }] } };
}

function entry(outputs: Entry['outputs'], extra: Partial<Entry> = {}): Entry {
  return { format: 1, outputs, cost: { seconds: 1 }, ...extra };
}

const HOOK = '#!/bin/sh\necho pwned > /tmp/pwned\n';

/** An entry planting a git hook and emptying src/. */
function hookEntry(): Entry {
  const hash = sha256(HOOK);
  return entry({
    '.git/hooks/': { hash: sha256('x'), files: [{ path: '.git/hooks/pre-commit', hash, mode: 493 }] },
    'src/': { hash: sha256('y'), files: [] },
  });
}

/** The one warning a refused entry gives, and that the node ran instead. */
function expectRefused(stdout: string, project: TestProject, node: string, problem: RegExp): void {
  const warnings = stdout.split('\n').filter((line) => line.startsWith(`! ${node}: cache entry unusable, running instead: `));
  expect(warnings, stdout).toHaveLength(1);
  expect(warnings[0]).toMatch(problem);
  expect(project.takeRuns()).toContain(node);
}

describe('a forged local cache entry', () => {
  it('naming .git/hooks/pre-commit and src/ is refused: no hook is planted, src/ stays, the node runs, the entry is replaced', async () => {
    const { project, v1, cacheDir } = await builtTwice();
    forge(cacheDir, v1.a!, hookEntry(), [HOOK]);

    const stdout = await buildOk(project, '1');

    expectRefused(stdout, project, 'a', /it lists other outputs .* than the node declares \(out\.txt\) \(removed\)$/);
    expect(project.exists('.git/hooks/pre-commit')).toBe(false);
    expect(project.read('src/main.ts')).toBe(SOURCES['src/main.ts']);
    expect(project.read('out.txt')).toBe('gen 1\n');
    // The rerun stored the node's own entry in its place.
    expect(Object.keys((JSON.parse(readFileSync(entryFile(cacheDir, v1.a!), 'utf8')) as Entry).outputs)).toEqual(['out.txt']);
  }, 90_000);

  it('with "outputs": {} is refused: the node is not left fresh with the old content', async () => {
    const { project, v1, cacheDir } = await builtTwice();
    forge(cacheDir, v1.a!, entry({}));

    const stdout = await buildOk(project, '1');

    expectRefused(stdout, project, 'a', /it lists other outputs \(none\) than the node declares \(out\.txt\)/);
    expect(project.read('out.txt')).toBe('gen 1\n');
    expect(project.lock().nodes.a!.outputs).toEqual({ 'out.txt': sha256('gen 1\n') });
  }, 90_000);

  it('naming docs/evil.sh, where docs is a committed symlink to a directory outside, writes nothing outside', async () => {
    const { project, v1, cacheDir } = await builtTwice();
    const outside = tempDir('spx-outside-');
    writeFileSync(path.join(outside, 'precious.txt'), 'mine\n');
    symlinkSync(outside, project.path('docs'));
    commitAll(project);
    forge(cacheDir, v1.a!, entry(fileOutput('docs/evil.sh', HOOK, 0o755)), [HOOK]);

    const stdout = await buildOk(project, '1');

    expectRefused(stdout, project, 'a', /other outputs \("docs\/evil\.sh"\)/);
    expect(readdirSync(outside)).toEqual(['precious.txt']);
  }, 90_000);

  it('for a directory output that is now a symlink out of the project is refused before anything is removed', async () => {
    const { project, v1 } = await builtTwice();
    const outside = tempDir('spx-outside-');
    writeFileSync(path.join(outside, 'precious.txt'), 'mine\n');
    rmSync(project.path('gen'), { recursive: true });
    symlinkSync(outside, project.path('gen'));
    expect(existsSync(entryFile(project.path('.spx/cache'), v1.g!))).toBe(true);

    const result = await build(project, '1');

    expect(result.stderr).not.toMatch(/internal error|\n\s+at /);
    // Refused twice over: the node's outputs are checked before any restore
    // (files/escaping-link.ts), and the restore checks again on its own.
    expect(result.stdout).toMatch(/^✗ g: output gen\/ leads through the symlink gen to .*, outside the project/m);
    expect(result.code).toBe(1);
    expect(readdirSync(outside)).toEqual(['precious.txt']);
    expect(readFileSync(path.join(outside, 'precious.txt'), 'utf8')).toBe('mine\n');
  }, 90_000);

  it('whose blob or entry was replaced by a FIFO does not hang the build: the nodes run, and store their entries again', async () => {
    const { project, v1, cacheDir } = await builtTwice();
    const blob = blobFile(cacheDir, 'gen 1\n');
    rmSync(blob);
    execFileSync('mkfifo', [blob]);
    expect(existsSync(entryFile(cacheDir, v1.a!))).toBe(true);
    // And g's entry itself: a FIFO is no entry, so a plain miss.
    rmSync(entryFile(cacheDir, v1.g!));
    execFileSync('mkfifo', [entryFile(cacheDir, v1.g!)]);

    const running = project.start(['build'], { env: { V: '1' } });
    const killer = setTimeout(() => running.child.kill('SIGKILL'), 20_000);
    const result = await running.done;
    clearTimeout(killer);

    expect(result.signal).toBeNull();
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(project.peekRuns().sort()).toEqual(['a', 'g']);
    expectRefused(result.stdout, project, 'a', /blob \w+ of out\.txt is not a regular file \(removed\)$/);
    expect(project.read('out.txt')).toBe('gen 1\n');
    expect(statSync(blob).isFile()).toBe(true);
    expect(statSync(entryFile(cacheDir, v1.g!)).isFile()).toBe(true);
  }, 90_000);

  it('with a setuid mode (0o6777) is refused and restores no setuid file', async () => {
    const { project, v1, cacheDir } = await builtTwice();
    forge(cacheDir, v1.a!, entry(fileOutput('out.txt', 'gen 1\n', 0o6777)));

    const stdout = await buildOk(project, '1');

    expectRefused(stdout, project, 'a', /the mode of "out\.txt" \(3583\) is not plain permission bits/);
    expect(statSync(project.path('out.txt')).mode & 0o7000).toBe(0);
  }, 90_000);

  it('naming a path with a NUL byte is refused, never an internal error, and the next build restores', async () => {
    const { project, v1, cacheDir } = await builtTwice();
    const hash = sha256('x\n');
    forge(cacheDir, v1.g!, entry({ 'gen/': { hash: sha256('z'), files: [{ path: 'gen/a\u0000b', hash, mode: 0o644 }] } }), ['x\n']);

    const result = await build(project, '1');

    expect(result.stdout + result.stderr).not.toContain('internal error');
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expectRefused(result.stdout, project, 'g', /it names the path "gen\/a\\u0000b", which holds a control character \(removed\)$/);
    expect(filesBelow(project.path('gen'))).toEqual(['one.txt']);
    rmSync(project.path('gen'), { recursive: true });
    expect(await buildOk(project, '1')).toContain('g restored from cache');
  }, 90_000);

  it('carrying nested metrics: unknown ones never reach spx.lock, a known one of the wrong type refuses the entry', async () => {
    const { project, v1, cacheDir } = await builtTwice();
    const legit = JSON.parse(readFileSync(entryFile(cacheDir, v1.a!), 'utf8')) as Entry;
    forge(cacheDir, v1.a!, { ...legit, metrics: { evil: { nested: { deep: [1, 2] } }, model: 'm-1', totalTokens: 12 } });

    const restored = await buildOk(project, '1');

    expect(restored).toContain('a restored from cache');
    expect(project.takeRuns()).toEqual([]);
    expect((project.lock().nodes.a as { metrics?: unknown }).metrics).toEqual({ model: 'm-1', totalTokens: 12 });
    expect(project.lockText()).not.toContain('nested');

    await buildOk(project, '2');
    forge(cacheDir, v1.a!, { ...legit, metrics: { totalTokens: { nested: 1 } } });
    const refused = await buildOk(project, '1');
    expectRefused(refused, project, 'a', /its metric totalTokens is not a finite number/);
    expect(project.lockText()).not.toContain('nested');
  }, 90_000);
});

describe('spx cache verify and prune', () => {
  it('verify reports forged entries as bad, removes them, exits 1, and is clean when run again', async () => {
    const { project, v1, cacheDir } = await builtTwice();
    const lock = project.lock();
    const legit = JSON.parse(readFileSync(entryFile(cacheDir, v1.a!), 'utf8')) as Entry;
    const forged = {
      [v1.a!]: hookEntry(),
      [v1.g!]: entry({ 'gen/': { hash: sha256('z'), files: [{ path: 'gen/a\u0000b', hash: sha256('x\n'), mode: 0o644 }] } }),
      [sha256('setuid')]: entry(fileOutput('out.txt', 'gen 1\n', 0o6777)),
      [sha256('metrics')]: { ...legit, metrics: { totalTokens: { nested: 1 } } },
    };
    for (const [fingerprint, forgedEntry] of Object.entries(forged)) {
      mkdirSync(path.dirname(entryFile(cacheDir, fingerprint)), { recursive: true });
      forge(cacheDir, fingerprint, forgedEntry, [HOOK, 'x\n']);
    }

    const result = await project.spx(['cache', 'verify', '--json']);

    expect(result.code, result.stdout + result.stderr).toBe(1);
    const report = JSON.parse(result.stdout) as { badEntries: { fingerprint: string; problem: string }[] };
    expect(report.badEntries.map((bad) => bad.fingerprint).sort()).toEqual(Object.keys(forged).sort());
    expect(entriesIn(cacheDir).sort()).toEqual([lock.nodes.a!.fingerprint, lock.nodes.g!.fingerprint].sort());
    const again = await project.spx(['cache', 'verify']);
    expect(again.stdout).toMatch(/0 corrupt; 0 bad entries/);
    expect(again.code).toBe(0);
  }, 90_000);

  it('with --cache-dir on a directory holding unrelated files, prune and verify leave them alone and print no stack trace', async () => {
    const project = createProject(SOURCES, `version: 1\n${NODES}`);
    const dir = tempDir('spx-user-dir-');
    const mine = {
      'blobs/notes.txt': 'my notes\n',
      'blobs/ab/mine.txt': 'mine\n',
      [`blobs/ab/cd${'0'.repeat(62)}`]: 'a name of the wrong shard\n',
      'blobs/ab/sub/deeper.txt': 'deeper\n',
      'entries/readme.md': '# not an entry\n',
      [`entries/ab/ab${'1'.repeat(62)}.json.bak`]: '{}',
      'photo.jpg': 'jpeg\n',
    };
    for (const [file, content] of Object.entries(mine)) {
      mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      writeFileSync(path.join(dir, file), content);
    }
    execFileSync('mkfifo', [path.join(dir, 'blobs', 'ab', `ab${'2'.repeat(62)}`)]);

    const verified = await project.spx(['cache', 'verify', '--cache-dir', dir]);
    const pruned = await project.spx(['cache', 'prune', '--max-size', '0', '--cache-dir', dir]);
    const stats = await project.spx(['cache', 'stats', '--cache-dir', dir]);

    for (const result of [verified, pruned, stats]) {
      expect(result.code, result.stdout + result.stderr).toBe(0);
      expect(result.stderr).toBe('');
    }
    expect(verified.stdout).toContain('checked 0 blobs: 0 corrupt; 0 bad entries');
    for (const [file, content] of Object.entries(mine)) expect(readFileSync(path.join(dir, file), 'utf8')).toBe(content);
    expect(statSync(path.join(dir, 'blobs', 'ab', `ab${'2'.repeat(62)}`)).isFIFO()).toBe(true);
  }, 90_000);
});

describe('forged artifacts served by the remote cache', () => {
  let server: RemoteCacheServer;

  beforeAll(async () => {
    server = await startRemoteCacheServer({ token: `spx-test-token-${randomBytes(8).toString('hex')}` });
  });

  afterAll(stopRemoteCacheServers);

  /** An artifact as spx packs one, with whatever entry its maker wants. */
  function artifact(fingerprint: string, forged: Entry, blobs: string[]): Buffer {
    const header = { fingerprint, entry: forged, blobs: blobs.map((blob) => [sha256(blob), Buffer.byteLength(blob)]) };
    return gzipSync(Buffer.concat([Buffer.from(`spx-artifact 1\n${JSON.stringify(header)}\n`), ...blobs.map((blob) => Buffer.from(blob))]));
  }

  it('a NUL path, a mode of -1, a hook path and a setuid mode are refused, the nodes run, and none is left in the local cache', async () => {
    const team = `team-${randomBytes(4).toString('hex')}`;
    const yaml = `version: 1\ncache:\n  remote:\n    team: ${team}\n${NODES}  b:
    kind: run
    command: echo b > b.txt && echo b >> runs.log
    outputs: [b.txt]
  c:
    kind: run
    command: printf '#!/bin/sh\\necho c\\n' > c.sh && chmod 755 c.sh && echo c >> runs.log
    outputs: [c.sh]
`;
    const a = createProject(SOURCES, yaml);
    const env = { SPX_REMOTE_CACHE_URL: server.url, SPX_REMOTE_CACHE_TOKEN: server.token };
    await buildOk(a, '1', env);
    commitAll(a);
    const fingerprint = (node: string): string => a.lock().nodes[node]!.fingerprint;
    const stored = (node: string): string => path.join(server.storage, team, fingerprint(node));
    const forged: Record<string, Buffer> = {
      g: artifact(fingerprint('g'), entry({ 'gen/': { hash: sha256('z'), files: [{ path: 'gen/a\u0000b', hash: sha256('x\n'), mode: 0o644 }] } }), ['x\n']),
      a: artifact(fingerprint('a'), entry(fileOutput('out.txt', 'gen 1\n', -1)), ['gen 1\n']),
      b: artifact(fingerprint('b'), hookEntry(), [HOOK]),
      c: artifact(fingerprint('c'), entry(fileOutput('c.sh', HOOK, 0o6777)), [HOOK]),
    };
    for (const [node, bytes] of Object.entries(forged)) writeFileSync(stored(node), bytes);

    const b = cloneProject(a);
    for (const output of ['out.txt', 'gen', 'b.txt', 'c.sh']) rmSync(b.path(output), { recursive: true });
    const result = await build(b, '1', env);

    expect(result.stdout + result.stderr).not.toContain('internal error');
    expect(result.code, result.stdout + result.stderr).toBe(0);
    for (const [node, problem] of [
      ['g', 'it names the path "gen/a\\\\u0000b", which holds a control character'],
      ['a', 'the mode of "out.txt" \\(-1\\) is not plain permission bits'],
      ['b', 'it lists other outputs \\(".git/hooks/", "src/"\\) than the node declares \\(b\\.txt\\)'],
      ['c', 'the mode of "c.sh" \\(3583\\) is not plain permission bits'],
    ] as const) {
      expect(result.stdout).toMatch(new RegExp(`^! ${node}: remote cache entry refused: ${problem}; running instead$`, 'm'));
    }
    expect(b.takeRuns().sort()).toEqual(['a', 'b', 'c', 'g']);
    expect(b.exists('.git/hooks/pre-commit')).toBe(false);
    expect(b.read('src/main.ts')).toBe(SOURCES['src/main.ts']);
    expect(statSync(b.path('c.sh')).mode & 0o7777).toBe(0o755);
    // What the local cache holds is what the nodes wrote, not what the remote served.
    for (const fingerprint of entriesIn(b.path('.spx/cache'))) {
      const text = readFileSync(entryFile(b.path('.spx/cache'), fingerprint), 'utf8');
      expect(text).not.toMatch(/\\u0000|"mode":-1|\.git|"mode":3583/);
    }
    // And without the remote, the next build is a no-op, not a failure.
    rmSync(b.path('out.txt'));
    const offline = await buildOk(b, '1', { SPX_REMOTE_CACHE_URL: undefined, SPX_REMOTE_CACHE_TOKEN: undefined });
    expect(offline).toContain('a restored from cache');
  }, 90_000);
});
