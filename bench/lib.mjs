// Helpers shared by the bench scripts (run-graph, run-cache, run-context,
// run-remote). Plain Node, no dependencies.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

export const here = dirname(fileURLToPath(import.meta.url));
export const repo = resolve(here, '..');

/** bench/.work/<name>: a bench's scratch directory (git-ignored). */
export const workDir = (name) => join(here, '.work', name);

// ---------------------------------------------------------------- options

const argv = process.argv.slice(2);

/** The number after `name` on the command line, or `fallback`. */
export const option = (name, fallback) => {
  const index = argv.indexOf(name);
  return index === -1 ? fallback : Number(argv[index + 1]);
};

/** `--spx path/to/bin/spx.js` (another checkout's spx, e.g. to compare with a branch), or this repository's. */
export const spxBin = argv.includes('--spx') ? resolve(argv[argv.indexOf('--spx') + 1]) : join(repo, 'bin', 'spx.js');

/** The dist/ directory next to spxBin, and whether it is built. */
export const spxDist = join(dirname(spxBin), '..', 'dist');
export const spxBuilt = () => existsSync(join(spxDist, 'cli', 'main.js'));

/** Exits with status 2 and a note when spx's dist/ is not built. */
export function requireBuilt(bench) {
  if (!spxBuilt()) {
    log(`${bench}: ${spxDist} is not built (run npm run build)`);
    process.exit(2);
  }
}

// ---------------------------------------------------------------- reporting

export const log = (line) => process.stderr.write(line + '\n');

export const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/** Milliseconds, right-aligned in six columns. */
export const fmtMs = (ms) => ms.toFixed(0).padStart(6);

/** "node v20…; N CPUs, load average a b c": the machine line under each table. */
export const machine = () => `node ${process.version}; ${cpus().length} CPUs, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`;

// ---------------------------------------------------------------- processes

/** The environment the benches run spx in: CI output, no colour, no SPX_CACHE_DIR from the caller. */
export function benchEnv() {
  const env = { ...process.env, CI: 'true', NO_COLOR: '1' };
  delete env.SPX_CACHE_DIR;
  return env;
}

/**
 * Runs a command to completion and times it (wall-clock ms). Throws when it
 * fails. With `stdout: true` its output is captured and returned; otherwise
 * discarded.
 */
export function timed(command, args, { cwd, env, stdout = false }) {
  const start = performance.now();
  const result = spawnSync(command, args, { cwd, env, stdio: ['ignore', stdout ? 'pipe' : 'ignore', 'pipe'], encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const ms = performance.now() - start;
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} in ${cwd} exited ${result.status ?? result.signal}:\n${`${result.stdout ?? ''}${result.stderr}`.slice(-2000)}`);
  }
  return { ms, stdout: result.stdout ?? '' };
}

/** `node -e 0`: the floor of any Node program's start-up. */
export const nodeStartMs = (cwd, env) => timed(process.execPath, ['-e', '0'], { cwd, env }).ms;

export function git(cwd, args) {
  const result = spawnSync('git', ['-c', 'user.name=spx bench', '-c', 'user.email=bench@example.com', ...args], { cwd, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`git ${args.join(' ')} in ${cwd} failed:\n${result.stderr}`);
}

/**
 * Runs `spx build -j jobs …args`; returns wall-clock ms, the seconds spx
 * itself reported and its summary line. With `quiet`, a warning (a line
 * starting "! " or anything on stderr) fails the bench.
 */
export function spxBuild(cwd, args, { jobs, env, quiet = false }) {
  const start = performance.now();
  const result = spawnSync(process.execPath, [spxBin, 'build', '-j', String(jobs), ...args], { cwd, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const ms = performance.now() - start;
  if (result.status !== 0) throw new Error(`spx build ${args.join(' ')} in ${cwd} exited ${result.status ?? result.signal}:\n${(result.stdout + result.stderr).slice(-2000)}`);
  if (quiet && (/^! /m.test(result.stdout) || result.stderr !== '')) throw new Error(`spx build in ${cwd} warned:\n${result.stdout}${result.stderr}`);
  // The last line: "spx: 0 ran, 100 restored from cache, 0 fresh (0.41s)".
  const summary = result.stdout.trim().split('\n').pop() ?? '';
  const reported = /\((\d+(?:\.\d+)?)s\)$/.exec(summary);
  return { ms, buildMs: reported ? Number(reported[1]) * 1000 : NaN, summary };
}

export function expectSummary(dir, result, wanted) {
  if (!result.summary.startsWith(wanted)) throw new Error(`${dir}: expected "${wanted}…", got "${result.summary}"`);
}

// ---------------------------------------------------------------- outputs

/** Relative path → sha256 of every file below a directory. */
export function hashTree(dir) {
  const hashes = new Map();
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = join(entry.parentPath, entry.name);
    hashes.set(relative(dir, file), createHash('sha256').update(readFileSync(file)).digest('hex'));
  }
  return hashes;
}

/** Fails unless dir/out holds exactly the files of `expected` (from hashTree), byte for byte. */
export function checkSameOutputs(expected, dir) {
  const actual = hashTree(join(dir, 'out'));
  if (actual.size !== expected.size) throw new Error(`${dir}: ${actual.size} output files, expected ${expected.size}`);
  for (const [file, hash] of expected) {
    if (actual.get(file) !== hash) throw new Error(`${dir}: out/${file} differs from the original build`);
  }
}

// ---------------------------------------------------------------- the cache benches' project

export const OUTPUT_NODES = 100;
export const FILES_PER_NODE = 10;

/**
 * The project of run-cache.mjs and run-remote.mjs: node nNN reads
 * src/nNN.txt (4 KB of text) and writes out/nNN/f0.txt … f9.txt: a header
 * naming the node and file, then the first 1,024 + 300·j bytes of its input.
 * Every file is distinct, so the cache holds 1,000 blobs. `settings` are
 * spx.yaml lines put before `nodes:`.
 */
export function generateOutputsProject(dir, { generator, settings = [] }) {
  const nodeName = (i) => `n${String(i).padStart(2, '0')}`;
  mkdirSync(join(dir, 'src'), { recursive: true });
  const yaml = [`# Generated by ${generator}: 100 run nodes × 10 output files.`, 'version: 1', ...settings, 'nodes:'];
  for (let i = 0; i < OUTPUT_NODES; i++) {
    const name = nodeName(i);
    const line = `${name}: the quick brown fox jumps over the lazy dog ${'.'.repeat(20)}\n`;
    writeFileSync(join(dir, 'src', `${name}.txt`), line.repeat(Math.ceil(4096 / line.length)));
    const files = Array.from({ length: FILES_PER_NODE }, (_, j) => j).join(' ');
    const command =
      `mkdir -p out/${name} && for j in ${files}; do ` +
      `{ echo "${name} file $j"; head -c $((1024 + 300 * j)) src/${name}.txt; } > out/${name}/f$j.txt; done`;
    yaml.push(`  ${name}:`, '    kind: run', `    command: ${JSON.stringify(command)}`);
    yaml.push(`    inputs: [src/${name}.txt]`, `    outputs: [out/${name}/]`);
  }
  writeFileSync(join(dir, 'spx.yaml'), yaml.join('\n') + '\n');
  writeFileSync(join(dir, '.gitignore'), '.spx/\nout/\n');
}

/**
 * Every .js/.ts file of 1–40 KB under node_modules, sorted: real code of
 * ordinary sizes for the context benches' generated trees. `withTests`
 * false leaves out *.test.* and *.spec.* files.
 */
export function sourceFilesOfNodeModules({ withTests = true } = {}) {
  const found = [];
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      // A context node leaves out dist/ and node_modules/ directories (as a
      // .gitignore would): a file below one would be copied, never bundled.
      if (entry.isDirectory()) {
        if (entry.name !== 'dist' && entry.name !== 'node_modules') walk(path);
      }
      else if (entry.isFile() && /\.(c|m)?[jt]s$/.test(entry.name) && !entry.name.endsWith('.min.js') && (withTests || !/\.(test|spec)\./.test(entry.name))) {
        const size = statSync(path).size;
        if (size >= 1024 && size <= 40 * 1024) found.push(path);
      }
    }
  };
  for (const entry of readdirSync(join(repo, 'node_modules'), { withFileTypes: true })) if (entry.isDirectory()) walk(join(repo, 'node_modules', entry.name));
  return found.sort();
}

/**
 * A fresh `dir` holding `count` files of real code under src/, spread over
 * sourceFilesOfNodeModules() so that many packages (and styles of code) are
 * in: the context benches' tree. Returns the paths relative to `dir`, and
 * their total size in bytes.
 */
export function copySourceTree(dir, count) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const all = sourceFilesOfNodeModules();
  if (all.length < count) throw new Error(`only ${all.length} candidate files under node_modules`);
  const step = all.length / count;
  const files = [];
  let bytes = 0;
  for (let i = 0; i < count; i++) {
    const source = all[Math.floor(i * step)];
    const relative = `src/${source.slice(join(repo, 'node_modules').length + 1)}`;
    mkdirSync(join(dir, dirname(relative)), { recursive: true });
    copyFileSync(source, join(dir, relative));
    files.push(relative);
    bytes += statSync(source).size;
  }
  return { files, bytes };
}
