#!/usr/bin/env node
// Benchmark: restoring a whole project from the cache in a fresh clone,
// against rerunning it.
//
// Generates, in bench/.work/cache (recreated on every run), a git repository
// A of 100 `run` nodes, each writing 10 small files (1-4 KB) into its own
// directory output out/nNN/: 1,000 output files. Builds A once (cold, timed;
// this fills A/.spx/cache) and commits spx.lock. Then, round by round, makes
// two fresh `git clone`s of A and times in one `spx build --cache-dir
// A/.spx/cache` (all 1,000 files restored, no command run) and in the other
// `spx build --no-cache` (every command rerun). Prints the medians and the
// ratio. Every clone's outputs are compared with A's, byte for byte, so a
// build that skipped work fails the bench instead of looking fast.
//
// Usage: npm run build && node bench/run-cache.mjs [--runs N] [--jobs N] [--spx path/to/bin/spx.js]
// The last round's clones stay in bench/.work/cache/{restore,rerun}-N,
// ready for profiling. Plain Node, no dependencies.

import { rmSync } from 'node:fs';
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
  nodeStartMs,
  option,
  requireBuilt,
  spxBuild as build,
  workDir,
} from './lib.mjs';

const work = workDir('cache');
const RUNS = option('--runs', 3);
const JOBS = option('--jobs', 2);

// The project (in lib.mjs): node nNN reads src/nNN.txt (4 KB of text) and
// writes out/nNN/f0.txt … f9.txt: a header naming the node and file, then the
// first 1,024 + 300·j bytes of its input. Every file is distinct, so the cache
// holds 1,000 blobs.
const generate = (dir) => generateOutputsProject(dir, { generator: 'bench/run-cache.mjs' });

const env = benchEnv();
const spxBuild = (cwd, args) => build(cwd, args, { jobs: JOBS, env });

// ---------------------------------------------------------------- run

requireBuilt('spx cache bench');

log(`spx cache bench: ${NODES} nodes × ${FILES_PER_NODE} output files, -j ${JOBS}, ${RUNS} runs, in ${work}`);
rmSync(work, { recursive: true, force: true });
const origin = join(work, 'origin');
generate(origin);
git(origin, ['init', '-q']);

log('  cold build in the original checkout…');
const cold = spxBuild(origin, []);
expectSummary(origin, cold, `spx: ${NODES} ran,`);
const cacheDir = join(origin, '.spx', 'cache');
// What CI would have: spx.lock committed, outputs and .spx/ not.
git(origin, ['add', '-A']);
git(origin, ['commit', '-q', '-m', 'bench project']);
const expected = hashTree(join(origin, 'out'));
if (expected.size !== NODES * FILES_PER_NODE) throw new Error(`the cold build wrote ${expected.size} files`);

const restoreRuns = [];
const rerunRuns = [];
const nodeStartRuns = [];
for (let r = 1; r <= RUNS; r++) {
  log(`  round ${r}/${RUNS}: restore in a fresh clone, rerun in another…`);
  // The previous round's clones go; the last round's stay for profiling.
  for (const name of [`restore-${r - 1}`, `rerun-${r - 1}`]) rmSync(join(work, name), { recursive: true, force: true });
  const restoreDir = join(work, `restore-${r}`);
  const rerunDir = join(work, `rerun-${r}`);
  git(work, ['clone', '-q', origin, restoreDir]);
  git(work, ['clone', '-q', origin, rerunDir]);

  const restore = spxBuild(restoreDir, ['--cache-dir', cacheDir]);
  expectSummary(restoreDir, restore, `spx: 0 ran, ${NODES} restored from cache,`);
  checkSameOutputs(expected, restoreDir);
  restoreRuns.push(restore);

  const rerun = spxBuild(rerunDir, ['--no-cache']);
  expectSummary(rerunDir, rerun, `spx: ${NODES} ran,`);
  checkSameOutputs(expected, rerunDir);
  rerunRuns.push(rerun);

  nodeStartRuns.push(nodeStartMs(work, env));
}

// ---------------------------------------------------------------- report

const restoreMs = median(restoreRuns.map((r) => r.ms));
const rerunMs = median(rerunRuns.map((r) => r.ms));
const restoreBuildMs = median(restoreRuns.map((r) => r.buildMs));
const rerunBuildMs = median(rerunRuns.map((r) => r.buildMs));
const nodeStart = median(nodeStartRuns);

console.log('');
console.log(`${NODES} run nodes × ${FILES_PER_NODE} files (${expected.size} files, 1-4 KB each), fresh git clone, -j ${JOBS}; times in ms`);
console.log(`(median of ${RUNS}, a fresh clone each time; ${machine()})`);
console.log('');
console.log('                                  wall   inside spx (its summary line)');
console.log(`cold build (original checkout)  ${fmt(cold.ms)}   ${fmt(cold.buildMs)}`);
console.log(`restore from cache (--cache-dir) ${fmt(restoreMs)}   ${fmt(restoreBuildMs)}`);
console.log(`rerun everything (--no-cache)    ${fmt(rerunMs)}   ${fmt(rerunBuildMs)}`);
console.log(`node -e 0                        ${fmt(nodeStart)}`);
console.log('');
console.log(`rerun / restore: ${(rerunMs / restoreMs).toFixed(1)}x`);
console.log(`restore of ${expected.size} files: ${restoreMs < 1000 ? 'under' : 'OVER'} the 1 s goal (${restoreMs.toFixed(0)} ms wall, ${(restoreMs - nodeStart).toFixed(0)} ms above node -e 0)`);
