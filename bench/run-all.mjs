#!/usr/bin/env node
// `npm run bench`: every figure of issue 16 with its goal, on every Node
// major found: the one running this script, and Node 22 and 24 when
// installed (SPX_BENCH_NODE22 / SPX_BENCH_NODE24, or npm's `node` package
// in /tmp/node22 and /tmp/node24: `npm install --prefix /tmp/node22 node@22`),
// plus any in SPX_BENCH_NODES (paths separated by ':').
//
//   run-graph.mjs      1,000 nodes: cold, no-op, 1-file change, touch all,
//                      peak RSS; spx, ninja and make -r; on each Node
//   scaling            cold build of 1,000 and 3,000 nodes (spx, ninja,
//                      make -r; Node 22 when present), then the 3,000-node
//                      no-op on each Node
//   validate-large.mjs a 20,000-node spx.yaml, on each Node
//   run-context.mjs    a context node over 1,000 files, on the machine's Node
//
// Usage: npm run bench   (builds first; about 10 minutes on 2 quiet cores)
//        node bench/run-all.mjs [--skip-scaling] [--skip-context] [--skip-large]

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { benchEnv, here, log, median, spxBin, timed, workDir } from './lib.mjs';

const skip = (what) => process.argv.includes(`--skip-${what}`);

/** Node binaries, one per major, the running one first. */
function nodes() {
  const candidates = [
    process.execPath,
    process.env.SPX_BENCH_NODE22 ?? '/tmp/node22/node_modules/node/bin/node',
    process.env.SPX_BENCH_NODE24 ?? '/tmp/node24/node_modules/node/bin/node',
    ...(process.env.SPX_BENCH_NODES ?? '').split(':').filter(Boolean),
  ];
  const byMajor = new Map();
  for (const path of candidates) {
    if (!existsSync(path)) continue;
    const version = spawnSync(path, ['--version'], { encoding: 'utf8' }).stdout?.trim();
    const major = Number(/^v(\d+)/.exec(version ?? '')?.[1]);
    if (major && !byMajor.has(major)) byMajor.set(major, { path, version, major });
  }
  return [...byMajor.values()];
}

/** Runs a bench script with one Node, its report on our stdout; returns what it wrote to stderr. */
function script(node, name, args = []) {
  console.log(`\n==== ${name} ${args.join(' ')} on Node ${node.version}`);
  const result = spawnSync(node.path, [join(here, name), ...args], { stdio: ['ignore', 'inherit', 'pipe'], encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const stderr = result.stderr ?? '';
  // The scripts log progress (and validate-large its table) on stderr.
  console.log(stderr.split('\n').filter((line) => !line.startsWith('spx-bench-')).join('\n').trimEnd());
  if (result.status !== 0) console.log(`(${name} failed: exit ${result.status ?? result.signal})`);
  return stderr;
}

const found = nodes();
log(`spx bench on ${found.map((n) => n.version).join(', ')}`);

for (const node of found) script(node, 'run-graph.mjs', ['--nodes', '1000']);

if (!skip('scaling')) {
  const node = found.find((n) => n.major === 22) ?? found[0];
  const cold = {};
  for (const size of [1000, 3000]) {
    const stderr = script(node, 'run-graph.mjs', ['--nodes', String(size), '--cold-only']);
    // run-graph logs each tool's cold time on stderr ("  spx: cold…" then "    1234 ms").
    cold[size] = Object.fromEntries([...stderr.matchAll(/^ {2}(\S+(?: -r)?): cold…\n {4}(\d+) ms$/gm)].map((m) => [m[1], Number(m[2])]));
  }
  console.log(`\n==== cold build scaling on Node ${node.version} (ms)`);
  for (const tool of ['spx', 'ninja', 'make -r']) {
    if (cold[1000][tool] === undefined || cold[3000][tool] === undefined) continue;
    console.log(`${tool.padEnd(8)} 1,000: ${String(cold[1000][tool]).padStart(7)}   3,000: ${String(cold[3000][tool]).padStart(7)}   3,000 / 1,000: ${(cold[3000][tool] / cold[1000][tool]).toFixed(2)}x`);
  }
  const scale = cold[3000].spx / cold[1000].spx;
  console.log(`spx cold 3,000 / 1,000:     ${scale.toFixed(2)}x   (goal ≤ 3.6x: ${scale <= 3.6 ? 'met' : 'NOT met'})`);
  for (const size of [1000, 3000]) {
    if (cold[size].ninja === undefined) continue;
    const ratio = cold[size].spx / cold[size].ninja;
    console.log(`spx / ninja, cold ${size === 1000 ? '1,000' : '3,000'}:   ${ratio.toFixed(2)}x   (goal ≤ 3x: ${ratio <= 3 ? 'met' : 'NOT met'})`);
  }
  // The 3,000-node no-op on each Node, against ninja's, on the trees just built.
  const dir = workDir('graph-3000');
  const ninjaRuns = [];
  console.log(`\n==== no-op of 3,000 nodes (median of 5, ms)`);
  // The first no-op after the cold build judges every node and leaves the verdict the others replay.
  timed(found[0].path, [spxBin, 'build', '-j', '2'], { cwd: join(dir, 'spx'), env: benchEnv() });
  for (const each of found) {
    const spxRuns = [];
    for (let r = 0; r < 5; r++) {
      spxRuns.push(timed(each.path, [spxBin, 'build', '-j', '2'], { cwd: join(dir, 'spx'), env: benchEnv() }).ms);
      ninjaRuns.push(timed('ninja', ['-j', '2'], { cwd: join(dir, 'ninja'), env: benchEnv() }).ms);
    }
    const ratio = median(spxRuns) / median(ninjaRuns);
    const aim = each.major >= 22 ? `goal ≤ 3x: ${ratio <= 3 ? 'met' : 'NOT met'}` : 'no goal on Node 20';
    console.log(`Node ${each.major}: spx ${median(spxRuns).toFixed(0)}, ninja ${median(ninjaRuns).toFixed(0)}: ${ratio.toFixed(2)}x   (${aim})`);
  }
}

if (!skip('large')) for (const node of found) script(node, 'validate-large.mjs');
if (!skip('context')) script(found[0], 'run-context.mjs');
