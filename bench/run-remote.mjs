#!/usr/bin/env node
// Benchmark: restoring a whole project from the remote cache into a fresh
// clone with an empty local cache, against a cold run.
//
// Starts turborepo-remote-cache (the devDependency, local storage backend in
// bench/.work/remote/storage) on a free loopback port. Generates, in
// bench/.work/remote (recreated on every run), a git repository A of 100
// `run` nodes, each writing 10 small files (1-4 KB) into its own directory
// output out/nNN/: 1,000 output files, the project of run-cache.mjs. Builds A
// once with the remote (cold, timed; this uploads 100 artifacts) and commits
// spx.lock. Then, round by round, makes fresh `git clone`s of A and times
//
//   - `spx build` with the remote and no local cache: every node's artifact
//     downloaded, checked, written into .spx/cache, restored; no command run;
//   - `spx build --cache-dir A/.spx/cache` without the remote (for reference);
//   - `spx build --no-cache`: the cold run, every command rerun.
//
// Prints the medians. Every clone's outputs are compared with A's, byte for
// byte, so a build that skipped work fails the bench instead of looking fast.
//
// Usage: npm run build && node bench/run-remote.mjs [--runs N] [--jobs N] [--spx path/to/bin/spx.js]
// Plain Node, no dependencies beyond the server.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import {
  FILES_PER_NODE,
  OUTPUT_NODES as NODES,
  benchEnv,
  checkSameOutputs,
  expectSummary,
  fmtMs as fmt,
  generateOutputsProject,
  git,
  hashTree,
  log,
  machine,
  median,
  option,
  repo,
  requireBuilt,
  spxBuild as build,
  workDir,
} from './lib.mjs';

const work = workDir('remote');
const serverCli = join(repo, 'node_modules', 'turborepo-remote-cache', 'dist', 'cli.js');

const RUNS = option('--runs', 3);
const JOBS = option('--jobs', 2);

// ---------------------------------------------------------------- the project (run-cache.mjs's, in lib.mjs)

const generate = (dir) =>
  generateOutputsProject(dir, { generator: 'bench/run-remote.mjs', settings: ['cache:', '  remote:', '    team: bench'] });

// ---------------------------------------------------------------- the server

async function freePort() {
  const server = createServer();
  await new Promise((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address();
  await new Promise((done) => server.close(done));
  return port;
}

async function startServer(storage, token) {
  const port = await freePort();
  const child = spawn(process.execPath, [serverCli], {
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      STORAGE_PROVIDER: 'local',
      STORAGE_PATH: storage,
      STORAGE_PATH_USE_TMP_FOLDER: 'false',
      TURBO_TOKEN: token,
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'error',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`turborepo-remote-cache exited (${child.exitCode})`);
    try {
      if ((await fetch(`${url}/v8/artifacts/status`, { signal: AbortSignal.timeout(1000) })).ok) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new Error(`turborepo-remote-cache did not answer at ${url}`);
    await new Promise((done) => setTimeout(done, 50));
  }
  return { url, stop: () => child.kill('SIGKILL') };
}

// ---------------------------------------------------------------- helpers

const baseEnv = benchEnv();
for (const name of Object.keys(baseEnv)) if (name.startsWith('SPX_REMOTE_CACHE_')) delete baseEnv[name];

/** spx build, failing on any warning too. */
const spxBuild = (cwd, args, env) => build(cwd, args, { jobs: JOBS, env, quiet: true });

// ---------------------------------------------------------------- run

requireBuilt('spx remote bench');
if (!existsSync(serverCli)) {
  log('spx remote bench: turborepo-remote-cache is not installed (run npm install)');
  process.exit(2);
}

log(`spx remote bench: ${NODES} nodes × ${FILES_PER_NODE} output files, -j ${JOBS}, ${RUNS} runs, in ${work}`);
rmSync(work, { recursive: true, force: true });
const storage = join(work, 'storage');
mkdirSync(storage, { recursive: true });
const token = randomBytes(16).toString('hex');
const server = await startServer(storage, token);
const remoteEnv = { ...baseEnv, SPX_REMOTE_CACHE_URL: server.url, SPX_REMOTE_CACHE_TOKEN: token };

try {
  const origin = join(work, 'origin');
  generate(origin);
  git(origin, ['init', '-q']);

  log('  cold build in the original checkout, uploading to the remote…');
  const cold = spxBuild(origin, [], remoteEnv);
  expectSummary(origin, cold, `spx: ${NODES} ran,`);
  const uploaded = readdirSync(join(storage, 'bench')).filter((name) => !name.endsWith('.tag')).length;
  if (uploaded !== NODES) throw new Error(`the cold build uploaded ${uploaded} artifacts, expected ${NODES}`);
  git(origin, ['add', '-A']);
  git(origin, ['commit', '-q', '-m', 'bench project']);
  const expected = hashTree(join(origin, 'out'));
  const localCache = join(origin, '.spx', 'cache');

  const rounds = { remote: [], local: [], cold: [] };
  for (let r = 1; r <= RUNS; r++) {
    log(`  round ${r}/${RUNS}: restore from the remote, from a local cache, and a cold run, each in a fresh clone…`);
    const dirs = { remote: join(work, `remote-${r}`), local: join(work, `local-${r}`), cold: join(work, `cold-${r}`) };
    for (const dir of Object.values(dirs)) git(work, ['clone', '-q', origin, dir]);

    const fromRemote = spxBuild(dirs.remote, [], remoteEnv);
    expectSummary(dirs.remote, fromRemote, `spx: 0 ran, ${NODES} restored from cache,`);
    checkSameOutputs(expected, dirs.remote);
    rounds.remote.push(fromRemote);

    const fromLocal = spxBuild(dirs.local, ['--cache-dir', localCache], baseEnv);
    expectSummary(dirs.local, fromLocal, `spx: 0 ran, ${NODES} restored from cache,`);
    checkSameOutputs(expected, dirs.local);
    rounds.local.push(fromLocal);

    const rerun = spxBuild(dirs.cold, ['--no-cache'], baseEnv);
    expectSummary(dirs.cold, rerun, `spx: ${NODES} ran,`);
    checkSameOutputs(expected, dirs.cold);
    rounds.cold.push(rerun);

    // The last round's clones stay, ready for profiling.
    if (r < RUNS) for (const dir of Object.values(dirs)) rmSync(dir, { recursive: true, force: true });
  }

  const wall = (runs) => median(runs.map((run) => run.ms));
  const inside = (runs) => median(runs.map((run) => run.buildMs));
  const artifactBytes = readdirSync(join(storage, 'bench')).reduce((sum, name) => sum + readFileSync(join(storage, 'bench', name)).length, 0);
  console.log('');
  console.log(`${NODES} run nodes × ${FILES_PER_NODE} files (${expected.size} files, 1-4 KB each), fresh git clone, -j ${JOBS}; times in ms`);
  console.log(`remote: turborepo-remote-cache on loopback, local storage; ${NODES} artifacts, ${(artifactBytes / 1024).toFixed(0)} KiB gzipped in all`);
  console.log(`(median of ${RUNS}; ${machine()})`);
  console.log('');
  console.log('                                              wall   inside spx (its summary line)');
  console.log(`cold build + upload (original checkout)     ${fmt(cold.ms)}   ${fmt(cold.buildMs)}`);
  console.log(`restore from the remote, empty local cache  ${fmt(wall(rounds.remote))}   ${fmt(inside(rounds.remote))}`);
  console.log(`restore from a local cache (--cache-dir)    ${fmt(wall(rounds.local))}   ${fmt(inside(rounds.local))}`);
  console.log(`cold run (--no-cache)                       ${fmt(wall(rounds.cold))}   ${fmt(inside(rounds.cold))}`);
  console.log('');
  console.log(`cold run / restore from the remote: ${(wall(rounds.cold) / wall(rounds.remote)).toFixed(2)}x`);
} finally {
  server.stop();
}
