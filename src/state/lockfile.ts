import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ContentHash, Fingerprint } from '../util/hash.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { UserError } from '../util/errors.js';
import { nameTable, parseJsonTables } from '../util/name-table.js';

/**
 * Bump when the meaning of recorded fingerprints changes: every node then
 * rebuilds once, instead of a stale one passing for fresh.
 */
export const STATE_FORMAT = 1;

/**
 * What spx.lock records of one node: the fingerprint and, so that `spx
 * status` can say *why* a node is stale even in a fresh clone, the parts it
 * was computed from. Env values appear only as hashes: spx.lock is committed.
 */
export interface LockEntry {
  fingerprint: Fingerprint;
  kind: string;
  /** Setting name → hash of its resolved value. */
  settings: Record<string, ContentHash>;
  /** Input file → content hash. */
  inputs: Record<string, ContentHash>;
  /** Needed node → hash of its outputs. */
  needs: Record<string, ContentHash>;
  /** Environment variable → hash of its value. */
  env: Record<string, ContentHash>;
  /** Declared output → content hash, as it is now (a hand edit included). */
  outputs: Record<string, ContentHash>;
  /**
   * For outputs a human edited after spx wrote them: the hash spx wrote.
   * The edit is the node's output (it flows downstream); this remembers
   * that it is one, so status can say so and a regeneration backs it up.
   */
  generated?: Record<string, ContentHash>;
  /** For review nodes: the hash of the outputs a human approved (`spx approve`). */
  approved?: ContentHash;
  /** What the run measured (a bundle's tokens, a model call's usage). */
  metrics?: Record<string, number | string>;
}

export interface Lock {
  format: number;
  nodes: Record<string, LockEntry>;
}

export const LOCK_FILE = 'spx.lock';

export function emptyLock(): Lock {
  return { format: STATE_FORMAT, nodes: nameTable() };
}

export function readLock(root: string): Lock {
  const path = join(root, LOCK_FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return emptyLock();
  }
  try {
    // Keyed by node and file names: `constructor` is a node like any other.
    const parsed = parseJsonTables(text) as Lock;
    if (typeof parsed !== 'object' || parsed === null || typeof parsed.nodes !== 'object') throw new Error('no nodes');
    return parsed;
  } catch {
    throw new UserError(`${LOCK_FILE} is not valid JSON (a merge conflict?); fix it or delete it to rebuild everything`, {
      file: path,
      line: 1,
      column: 1,
    });
  }
}

/**
 * Deterministic, diff-friendly text: keys sorted at every level, one field a
 * line, no timestamps, no absolute paths; the same state always gives the
 * same bytes, so the file only changes in git when the build did.
 */
export function formatLock(lock: Lock): string {
  return JSON.stringify(sortKeysDeep(lock), null, 2) + '\n';
}

export function writeLock(root: string, lock: Lock): void {
  writeFileAtomic(join(root, LOCK_FILE), formatLock(lock));
}

function sortKeysDeep(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const out = nameTable<unknown>();
  for (const key of Object.keys(value).sort()) out[key] = sortKeysDeep((value as Record<string, unknown>)[key]);
  return out;
}
