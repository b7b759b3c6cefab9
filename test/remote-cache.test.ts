import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cleanupCacheDirs, cloneProject, commitAll, entriesIn, filesBelow, sha256, snapshot, tempDir } from './helpers/cache.js';
import { FIVE_NODE_OUTPUTS, FIVE_NODES, FIVE_NODES_YAML, fiveNodeFiles } from './helpers/fixtures.js';
import { cleanupProjects, createProject, statusOf, type SpxResult, type TestProject } from './helpers/project.js';
import { startRemoteCacheServer, startSilentServer, stopRemoteCacheServers, type RemoteCacheServer } from './helpers/remote-cache.js';

/** The five-node fixture of helpers/fixtures.ts, also built by cache.test.ts. */
const NODES_YAML = FIVE_NODES_YAML;
const NODES = FIVE_NODES;
const OUTPUTS = FIVE_NODE_OUTPUTS;
const FILES = fiveNodeFiles();

/** The one line a build prints when it gives the remote up. */
const GIVEN_UP = /^! remote cache http:\/\/127\.0\.0\.1:\d+ (.*); building with the local cache only$/gm;

/** Shared by the tests, each with a team of its own. */
let server: RemoteCacheServer;
/** One that stores the tags of uploads, for signing. */
let signing: RemoteCacheServer;

beforeAll(async () => {
  [server, signing] = await Promise.all([
    startRemoteCacheServer({ token: `spx-test-token-${randomBytes(8).toString('hex')}` }),
    startRemoteCacheServer({ token: `spx-test-token-${randomBytes(8).toString('hex')}`, storesTags: true }),
  ]);
});

afterEach(async () => {
  await cleanupProjects();
  cleanupCacheDirs();
});

afterAll(stopRemoteCacheServers);

/** Each test its own team, so that tests sharing a server share no artifacts. */
function newTeam(): string {
  return `team-${randomBytes(4).toString('hex')}`;
}

function remoteYaml(settings: Record<string, string | number | boolean>): string {
  const lines = Object.entries(settings).map(([key, value]) => `    ${key}: ${value}`);
  return `version: 1\ncache:\n  remote:\n${lines.join('\n')}\n`;
}

function project(settings: Record<string, string | number | boolean>, nodesYaml = NODES_YAML, files: Record<string, string> = FILES): TestProject {
  return createProject(files, remoteYaml(settings) + nodesYaml);
}

function remoteEnv(on: RemoteCacheServer = server, extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return { SPX_REMOTE_CACHE_URL: on.url, SPX_REMOTE_CACHE_TOKEN: on.token, ...extra };
}

async function spx(project: TestProject, args: string[], env: Record<string, string | undefined>): Promise<SpxResult> {
  const result = await project.spx(args, { env });
  expect(result.code, `spx ${args.join(' ')}:\n${result.stdout}${result.stderr}`).toBe(0);
  return result;
}

/** Fingerprints of the artifacts the server holds for a team (tags left out). */
function artifactsOn(on: RemoteCacheServer, team: string): string[] {
  const dir = path.join(on.storage, team);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => /^[0-9a-f]{64}$/.test(name))
    .sort();
}

function fingerprints(project: TestProject): string[] {
  return Object.values(project.lock().nodes)
    .map((entry) => entry.fingerprint)
    .sort();
}

interface RemoteStats {
  hits: number;
  misses: number;
  uploads: number;
  errors: number;
  readOnly: boolean;
  unavailable?: string;
}

async function remoteStats(project: TestProject): Promise<RemoteStats> {
  const result = await spx(project, ['cache', 'stats', '--json'], {});
  return (JSON.parse(result.stdout) as { lastBuild: { remote: RemoteStats } }).lastBuild.remote;
}

describe('sharing outputs through the remote cache', () => {
  it('machine A uploads every entry; a fresh clone with an empty local cache restores every node from the remote, runs nothing, writes identical bytes', async () => {
    const team = newTeam();
    const a = project({ team });

    const first = await spx(a, ['build', '-j', '2'], remoteEnv());

    expect(a.takeRuns().sort()).toEqual(NODES);
    expect(first.stdout + first.stderr).not.toMatch(/^!/m);
    expect(artifactsOn(server, team)).toEqual(fingerprints(a));
    expect(await remoteStats(a)).toMatchObject({ hits: 0, misses: 5, uploads: 5, errors: 0 });

    commitAll(a);
    const b = cloneProject(a);
    expect(b.exists('.spx')).toBe(false);
    const second = await spx(b, ['build', '-j', '2'], remoteEnv());

    expect(b.takeRuns()).toEqual([]);
    for (const node of NODES) expect(second.stdout).toContain(`${node} restored from cache`);
    expect(second.stdout).toMatch(/0 ran, 5 restored from cache/);
    expect(second.stderr).toBe('');
    const restored = snapshot(b, OUTPUTS);
    expect(restored).toEqual(snapshot(a, OUTPUTS));
    expect(restored['tool.sh']!.mode & 0o111).toBe(0o111);
    expect(b.lockText()).toBe(a.lockText());
    // Through the local cache: the next build needs no network.
    expect(entriesIn(b.path('.spx/cache')).sort()).toEqual(fingerprints(a));
    expect(await remoteStats(b)).toMatchObject({ hits: 5, misses: 0, uploads: 0, errors: 0 });
    expect(Object.values(await statusOf(b)).map((s) => s.state)).toEqual(NODES.map(() => 'fresh'));

    // The remote's settings are in no fingerprint: without them, the same keys.
    const plain = createProject(FILES, `version: 1\n${NODES_YAML}`);
    await spx(plain, ['build', '--no-cache'], {});
    expect(plain.lockText()).toBe(a.lockText());

    // --cache-only (CI) counts a remote hit as a hit.
    const c = cloneProject(a);
    const cacheOnly = await spx(c, ['build', '--cache-only'], remoteEnv());
    expect(c.takeRuns()).toEqual([]);
    expect(cacheOnly.stdout).toMatch(/0 ran, 5 restored from cache/);
  });

  it('spx cache push uploads what the remote lacks; spx cache pull fills an empty local cache without touching the outputs', async () => {
    const team = newTeam();
    const a = project({ team });
    await spx(a, ['build', '-j', '2'], {});
    expect(artifactsOn(server, team)).toEqual([]);

    const pushed = await spx(a, ['cache', 'push', 'gen', 'tool'], remoteEnv());
    expect(pushed.stdout).toMatch(/^pushed 2 of 2 entries to http:\/\/127\.0\.0\.1:\d+: 0 already there/m);
    const all = await spx(a, ['cache', 'push'], remoteEnv());
    expect(all.stdout).toMatch(/^pushed 3 of 5 entries .*: 2 already there, 0 not in the local cache$/m);
    expect(artifactsOn(server, team)).toEqual(fingerprints(a));

    commitAll(a);
    const b = cloneProject(a);
    const pulled = await spx(b, ['cache', 'pull'], remoteEnv());
    expect(pulled.stdout).toMatch(/^pulled 5 of 5 entries .*: 0 already local, 0 not on the remote$/m);
    for (const output of OUTPUTS) expect(b.exists(output)).toBe(false);
    expect(entriesIn(b.path('.spx/cache')).sort()).toEqual(fingerprints(a));

    // Offline now: the local cache has everything.
    const offline = await spx(b, ['build', '-j', '2'], {});
    expect(b.takeRuns()).toEqual([]);
    expect(offline.stdout).toMatch(/0 ran, 5 restored from cache/);
    expect(snapshot(b, OUTPUTS)).toEqual(snapshot(a, OUTPUTS));
    expect((await spx(b, ['cache', 'pull', 'gen'], remoteEnv())).stdout).toMatch(/^= gen already in the local cache$/m);
  });

  it('spx cache push sends what the journal of an interrupted build records, as prune keeps it, not only what spx.lock does', async () => {
    const team = newTeam();
    const a = project({ team });
    await spx(a, ['build', '-j', '2'], {});
    const recorded = fingerprints(a);
    // As a build killed before it folded its journal into spx.lock leaves
    // things: its records only in the journal, spx.lock still the previous one (here: none).
    const journal = Object.entries(a.lock().nodes).map(([node, entry]) => JSON.stringify({ node, entry }));
    writeFileSync(a.path('.spx/journal.jsonl'), journal.join('\n') + '\n');
    rmSync(a.path('spx.lock'));

    expect((await spx(a, ['cache', 'push', 'gen'], remoteEnv())).stdout).toMatch(/^↑ gen uploaded$/m);
    const pushed = await spx(a, ['cache', 'push'], remoteEnv());
    expect(pushed.stdout).toMatch(/^pushed 4 of 5 entries .*: 1 already there, 0 not in the local cache$/m);
    expect(artifactsOn(server, team)).toEqual(recorded);
    expect(a.exists('spx.lock')).toBe(false);
  });

  it.each([
    { how: 'SPX_REMOTE_CACHE_READ_ONLY=1', args: [], env: { SPX_REMOTE_CACHE_READ_ONLY: '1' } },
    { how: '--remote-read-only', args: ['--remote-read-only'], env: {} },
    { how: 'readOnly: true in spx.yaml', args: [], env: {}, yaml: { readOnly: true } },
  ])('read-only ($how) restores from the remote but uploads nothing', async ({ how, args, env, yaml }) => {
    const team = newTeam();
    const a = project({ team });
    await spx(a, ['build', '-j', '2'], remoteEnv());
    expect(artifactsOn(server, team)).toHaveLength(5);
    commitAll(a);

    const b = cloneProject(a);
    if (yaml) b.writeConfig(remoteYaml({ team, ...yaml }) + NODES_YAML);
    b.write('notes.txt', 'c\n');
    const result = await spx(b, ['build', '-j', '2', ...args], remoteEnv(server, env));

    expect(b.takeRuns()).toEqual(['notes']);
    expect(result.stdout).toMatch(/1 ran, 4 restored from cache/);
    expect(artifactsOn(server, team)).toHaveLength(5);
    expect(await remoteStats(b)).toMatchObject({ hits: 4, misses: 1, uploads: 0, errors: 0, readOnly: true });
    // Nor does an explicit push, where the setting is the project's or the environment's.
    if (how !== '--remote-read-only') {
      const push = await b.spx(['cache', 'push'], { env: remoteEnv(server, env) });
      expect(push.code).toBe(2);
      expect(push.stderr).toMatch(/is read-only here .*: nothing pushed/);
      expect(artifactsOn(server, team)).toHaveLength(5);
    }
  });
});

describe('signed artifacts', () => {
  const KEY = `signing-key-${randomBytes(8).toString('hex')}`;

  /** An artifact as spx packs one, made by someone who can write to the server but lacks the key. */
  function forgedArtifact(fingerprint: string, output: string, content: string): Buffer {
    const hash = sha256(content);
    const entry = { format: 1, outputs: { [output]: { hash, files: [{ path: output, hash, mode: 0o755 }] } }, cost: { seconds: 1 } };
    const header = { fingerprint, entry, blobs: [[hash, Buffer.byteLength(content)]] };
    return gzipSync(Buffer.concat([Buffer.from(`spx-artifact 1\n${JSON.stringify(header)}\n`), Buffer.from(content)]));
  }

  it('uploads carry an HMAC tag; a tampered artifact is refused with a warning and the node runs; a missing key turns the remote off', async () => {
    const team = newTeam();
    const a = project({ team, signatureKeyEnv: 'SPX_TEST_SIGNING_KEY' });
    await spx(a, ['build', '-j', '2'], remoteEnv(signing, { SPX_TEST_SIGNING_KEY: KEY }));
    commitAll(a);
    const fingerprint = (node: string): string => a.lock().nodes[node]!.fingerprint;
    const stored = (node: string, suffix = ''): string => path.join(signing.storage, team, fingerprint(node) + suffix);
    // The tag: HMAC-SHA256 over the fingerprint, then the artifact's bytes.
    const genBytes = readFileSync(stored('gen'));
    expect(readFileSync(stored('gen', '.tag'), 'utf8')).toBe(createHmac('sha256', KEY).update(fingerprint('gen')).update(genBytes).digest('base64'));

    // gen: another node's artifact, with its valid tag, moved under gen's key.
    writeFileSync(stored('gen'), readFileSync(stored('notes')));
    writeFileSync(stored('gen', '.tag'), readFileSync(stored('notes', '.tag')));
    // tool: a well-formed artifact with consistent hashes, signed with the wrong key.
    const forged = forgedArtifact(fingerprint('tool'), 'tool.sh', '#!/bin/sh\necho HACKED\n');
    writeFileSync(stored('tool'), forged);
    writeFileSync(stored('tool', '.tag'), createHmac('sha256', 'not the key').update(fingerprint('tool')).update(forged).digest('base64'));
    // notes: the right tag, bytes altered after signing.
    const notes = readFileSync(stored('notes'));
    const at = notes.length - 5;
    notes.writeUInt8(notes.readUInt8(at) ^ 0xff, at);
    writeFileSync(stored('notes'), notes);

    const b = cloneProject(a);
    const result = await spx(b, ['build', '-j', '1'], remoteEnv(signing, { SPX_TEST_SIGNING_KEY: KEY }));

    expect(b.takeRuns().sort()).toEqual(['gen', 'notes', 'tool']);
    for (const node of ['gen', 'notes', 'tool']) {
      expect(result.stdout).toMatch(
        new RegExp(`^! ${node}: remote cache entry refused: its signature does not match: it was altered, or signed with another key; running instead$`, 'm'),
      );
    }
    // gen reran and wrote the same bytes: its dependents' keys held.
    expect(result.stdout).toContain('site restored from cache');
    expect(result.stdout).toContain('report restored from cache');
    expect(b.read('tool.sh')).not.toContain('HACKED');
    expect(snapshot(b, OUTPUTS)).toEqual(snapshot(a, OUTPUTS));
    expect(await remoteStats(b)).toMatchObject({ hits: 2, errors: 3 });

    // Without the key, nothing could be verified: the remote is not used at all.
    const c = cloneProject(a);
    const keyless = await spx(c, ['build', '-j', '2'], remoteEnv(signing, { SPX_TEST_SIGNING_KEY: undefined }));
    expect(c.takeRuns().sort()).toEqual(NODES);
    expect(keyless.stderr).toMatch(/^spx: remote cache http:\/\/127\.0\.0\.1:\d+ is off: cache\.remote\.signatureKeyEnv names SPX_TEST_SIGNING_KEY, which is not set/m);
    expect(keyless.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('a remote that cannot be used never breaks the build', () => {
  /**
   * A chain: one → two → three, four. `two` may run a command first (to
   * stop the server while the build is under way).
   */
  function chain(twoFirst = ''): string {
    return `nodes:
  one:
    kind: run
    command: echo one >> runs.log && echo 1 > one.out
    outputs: [one.out]
  two:
    kind: run
    command: ${twoFirst}echo two >> runs.log && cat one.out > two.out && echo 2 >> two.out
    needs: [one]
    outputs: [two.out]
  three:
    kind: run
    command: echo three >> runs.log && cat two.out > three.out
    needs: [two]
    outputs: [three.out]
  four:
    kind: run
    command: echo four >> runs.log && cat two.out > four.out
    needs: [two]
    outputs: [four.out]
`;
  }

  it.each([
    {
      failure: 'a wrong token',
      cause: /^refused access \(401 Unauthorized: Invalid authorization token\); check the token in SPX_REMOTE_CACHE_TOKEN$/,
      setup: async () => ({ env: remoteEnv(server, { SPX_REMOTE_CACHE_TOKEN: 'wrong-token-0123456789' }), twoFirst: '' }),
    },
    {
      failure: 'a server that never answers',
      cause: /^did not answer within 1s$/,
      setup: async () => {
        const silent = await startSilentServer();
        return { env: { SPX_REMOTE_CACHE_URL: silent.url, SPX_REMOTE_CACHE_TOKEN: server.token }, twoFirst: '', after: silent.close, hung: silent.requests };
      },
    },
    {
      failure: 'the server stopped mid-build',
      cause: /^is unreachable \(.+\)$/,
      setup: async () => {
        const doomed = await startRemoteCacheServer({ token: `token-${randomBytes(8).toString('hex')}` });
        return { env: remoteEnv(doomed), twoFirst: `kill -9 ${doomed.pid} && `, answeredFirst: true };
      },
    },
  ])('$failure: the build is green, says so in one line, and runs locally', async ({ cause, setup }) => {
    const { env, twoFirst, after, answeredFirst, hung }: { env: Record<string, string | undefined>; twoFirst: string; after?: () => Promise<void>; answeredFirst?: boolean; hung?: () => number } =
      await setup();
    try {
      const p = project({ team: newTeam(), timeout: 1 }, chain(twoFirst), {});
      const result = await spx(p, ['build', '-j', '2'], env);

      expect(p.takeRuns().sort()).toEqual(['four', 'one', 'three', 'two']);
      expect(p.read('four.out')).toBe('1\n2\n');
      const warnings = [...result.stdout.matchAll(GIVEN_UP)];
      expect(warnings, result.stdout).toHaveLength(1);
      expect(warnings[0]![1]).toMatch(cause);
      expect(result.stdout.split('\n').filter((line) => line.startsWith('!'))).toHaveLength(1);
      expect(result.stderr).toBe('');
      // One timeout, not one per node: the chain asks for one node at a
      // time, and once the first request has hung no node asks again.
      if (hung) expect(hung()).toBe(1);
      const stats = await remoteStats(p);
      expect(stats.unavailable).toMatch(/^remote cache http:\/\/127\.0\.0\.1:\d+ /);
      expect(stats.unavailable).toContain(warnings[0]![1]);
      expect(stats.errors).toBeGreaterThan(0);
      // Stopped mid-build: it was in use (it said it lacked "one") before it went away.
      if (answeredFirst) expect(stats.misses).toBeGreaterThan(0);
      // A second build is as green, and has nothing to do.
      await spx(p, ['build'], env);
      expect(p.takeRuns()).toEqual([]);
    } finally {
      await after?.();
    }
  });
});

describe('secrets', () => {
  it('the token and the signing key appear in no file spx writes and in none of its output', async () => {
    const team = newTeam();
    const key = `signing-key-${randomBytes(8).toString('hex')}`;
    const cacheDir = tempDir();
    const a = project({ team, signatureKeyEnv: 'SPX_TEST_SIGNING_KEY' });
    const env = remoteEnv(signing, { SPX_TEST_SIGNING_KEY: key, SPX_CACHE_DIR: cacheDir });
    const outputs: string[] = [];
    const run = async (p: TestProject, args: string[], extra: Record<string, string | undefined> = {}): Promise<void> => {
      const result = await p.spx(args, { env: { ...env, ...extra } });
      outputs.push(result.stdout, result.stderr);
    };

    await run(a, ['build', '-j', '2']);
    await run(a, ['build', '--force', '--json']);
    await run(a, ['cache', 'stats']);
    await run(a, ['cache', 'push']);
    await run(a, ['status']);
    await run(a, ['build', '--force', '--explain'], { SPX_REMOTE_CACHE_TOKEN: `${signing.token}-but-wrong` });
    commitAll(a);
    const b = cloneProject(a);
    await run(b, ['cache', 'pull'], { SPX_CACHE_DIR: undefined });
    await run(b, ['build', '-j', '2'], { SPX_CACHE_DIR: undefined });
    expect(outputs.join('')).toContain('restored from cache');

    for (const secret of [signing.token, key]) {
      for (const text of outputs) expect(text).not.toContain(secret);
      for (const dir of [a.dir, b.dir, cacheDir]) {
        for (const file of filesBelow(dir)) {
          expect(readFileSync(path.join(dir, file)).includes(secret), `${path.join(dir, file)} holds a secret`).toBe(false);
        }
      }
    }
  });
});
