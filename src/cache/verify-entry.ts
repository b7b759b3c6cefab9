import { hashOutputFiles } from '../files/output-hash.js';
import type { ContentHash } from '../util/hash.js';
import { CACHE_FORMAT, type CachedFile, type CacheEntry } from './cache.js';

/**
 * The shape of a cache entry, checked before anything is read by it. An
 * entry is data from a directory other jobs write (a shared cache, CI's
 * restored cache, a remote): it may be damaged, or forged by whoever can
 * write there. These checks need no disk; local-cache.ts adds those that
 * do (symlinks on the way, blobs) before a restore.
 */
export type EntryCheck = { ok: true; entry: CacheEntry } | { ok: false; problem: string };

/** A blob's and a fingerprint's name: sha256, hex. */
export const HASH = /^[0-9a-f]{64}$/;

/**
 * What node kinds report (prompt and execute: a model call's usage and the
 * files a patch changed; context: the bundle's size), each a number or a
 * string. An unknown key is dropped; a known one with another value makes
 * the entry malformed. A kind that reports a new metric adds it here, or a
 * restore loses it.
 */
const METRICS: Readonly<Record<string, 'number' | 'string'>> = {
  provider: 'string',
  model: 'string',
  promptTokens: 'number',
  outputTokens: 'number',
  totalTokens: 'number',
  costUsd: 'number',
  turns: 'number',
  attempts: 'number',
  filesChanged: 'number',
  tokens: 'number',
  files: 'number',
  bytes: 'number',
};

/** Longer than any model name; a bound, so that an entry cannot fill spx.lock. */
const MAX_METRIC_STRING = 200;
/** PATH_MAX on Linux. */
const MAX_PATH = 4096;

/**
 * Checks an entry against the outputs its node declares in the current
 * spx.yaml (the fingerprint covers them, so the right entry lists exactly
 * these), or, for `spx cache verify`, which does not know the node, against
 * the outputs it lists itself. Returns a copy holding only what was checked.
 */
export function checkEntry(value: unknown, declared?: readonly string[]): EntryCheck {
  try {
    return { ok: true, entry: checked(value, declared) };
  } catch (error) {
    if (error instanceof Malformed) return { ok: false, problem: error.message };
    throw error;
  }
}

/**
 * Why a path must not be written by restoring, or undefined if it may:
 * relative, posix, no empty, `.` or `..` component, no control character,
 * nothing in `.git` (a hook is code git runs), not spx's own files.
 */
export function pathProblem(path: string): string | undefined {
  if (path === '' || path.length > MAX_PATH) return 'is empty or too long';
  if (/[\u0000-\u001f\u007f]/.test(path)) return 'holds a control character';
  if (path.startsWith('/')) return 'is absolute';
  const parts = path.split('/');
  if (parts.some((part) => part === '' || part === '.' || part === '..')) return 'is not a normalized relative path';
  if (parts.some((part) => part.toLowerCase() === '.git')) return 'lies in .git';
  if (parts.length === 1 && (parts[0] === 'spx.yaml' || parts[0] === 'spx.lock')) return "is spx's own file";
  return undefined;
}

class Malformed extends Error {}

function fail(message: string): never {
  throw new Malformed(message);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A value from the entry, for a one-line message: JSON, so that no control character reaches the terminal. */
function brief(value: unknown): string {
  return (JSON.stringify(value) ?? 'undefined').slice(0, 20);
}

function show(path: string): string {
  return JSON.stringify(path.length > 80 ? `${path.slice(0, 80)}…` : path);
}

function checked(value: unknown, declared: readonly string[] | undefined): CacheEntry {
  if (!isRecord(value)) fail('it is not an object');
  if (value.format !== CACHE_FORMAT) fail(`it is of cache format ${brief(value.format)}, not ${CACHE_FORMAT}`);
  const cost = value.cost;
  if (!isRecord(cost) || typeof cost.seconds !== 'number' || !Number.isFinite(cost.seconds) || cost.seconds < 0) fail('its cost is malformed');
  if (!isRecord(value.outputs)) fail('it has no outputs');
  const listed = Object.keys(value.outputs);
  if (declared !== undefined) {
    const expected = new Set(declared);
    const same = listed.length === expected.size && listed.every((output) => expected.has(output));
    if (!same) fail(`it lists other outputs (${listed.map(show).join(', ') || 'none'}) than the node declares (${declared.join(', ') || 'none'})`);
  }
  const outputs: CacheEntry['outputs'] = {};
  for (const output of listed) {
    const outputProblem = pathProblem(output.endsWith('/') ? output.slice(0, -1) : output);
    if (outputProblem) fail(`its output ${show(output)} ${outputProblem}`);
    outputs[output] = checkedOutput(output, value.outputs[output]);
  }
  const entry: CacheEntry = { format: CACHE_FORMAT, outputs, cost: { seconds: cost.seconds } };
  if (value.metrics !== undefined) entry.metrics = checkedMetrics(value.metrics);
  return entry;
}

function checkedOutput(declared: string, value: unknown): { hash: ContentHash; files: CachedFile[] } {
  if (!isRecord(value) || typeof value.hash !== 'string' || !HASH.test(value.hash) || !Array.isArray(value.files)) {
    fail(`its output ${show(declared)} is malformed`);
  }
  const files: CachedFile[] = [];
  const seen = new Set<string>();
  for (const file of value.files as unknown[]) {
    if (!isRecord(file) || typeof file.path !== 'string' || typeof file.hash !== 'string' || !HASH.test(file.hash)) {
      fail(`a file of its output ${show(declared)} is malformed`);
    }
    const { path, mode } = file;
    const problem = pathProblem(path);
    if (problem) fail(`it names the path ${show(path)}, which ${problem}`);
    const below = declared.endsWith('/') ? path.startsWith(declared) : path === declared;
    if (!below) fail(`it names ${show(path)}, which is not part of its output ${show(declared)}`);
    if (seen.has(path)) fail(`it names ${show(path)} twice`);
    seen.add(path);
    // Permission bits only: a cache must not hand out setuid programs.
    if (typeof mode !== 'number' || !Number.isInteger(mode) || mode < 0 || mode > 0o777) {
      fail(`the mode of ${show(path)} (${brief(mode)}) is not plain permission bits`);
    }
    files.push({ path, hash: file.hash as ContentHash, mode });
  }
  // The hash recorded in spx.lock must be that of the files written, or the
  // next build would take the restored output for a hand edit.
  if (declared.endsWith('/')) {
    if (hashOutputFiles(files) !== value.hash) fail(`the hash of its output ${show(declared)} does not match its files`);
  } else if (files.length !== 1 || files[0]!.hash !== value.hash) {
    fail(`its file output ${show(declared)} is not exactly one file of its hash`);
  }
  return { hash: value.hash as ContentHash, files };
}

function checkedMetrics(value: unknown): Record<string, number | string> {
  if (!isRecord(value)) fail('its metrics are malformed');
  const metrics: Record<string, number | string> = {};
  for (const [key, metric] of Object.entries(value)) {
    const type = Object.hasOwn(METRICS, key) ? METRICS[key] : undefined;
    if (type === undefined) continue;
    const valid = type === 'number' ? typeof metric === 'number' && Number.isFinite(metric) : typeof metric === 'string' && metric.length <= MAX_METRIC_STRING;
    if (!valid) fail(`its metric ${key} is not a ${type === 'number' ? 'finite number' : 'short string'}`);
    metrics[key] = metric as number | string;
  }
  return metrics;
}
