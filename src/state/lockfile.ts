import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HASHED_PARTS, STATE_FORMAT, type FingerprintParts } from '../fingerprint/fingerprint.js';
import { canonicalJson, type ContentHash, type Fingerprint } from '../util/hash.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { UserError } from '../util/errors.js';
import { isRecord, isStringRecord, keyPath } from '../util/shape.js';
import { nameTable, withoutPrototype } from '../util/name-table.js';

/**
 * What spx.lock records of one node: the fingerprint and, so that `spx
 * status` can say *why* a node is stale even in a fresh clone, the parts it
 * was computed from (FingerprintParts, whose env values are only hashes:
 * spx.lock is committed).
 */
export interface LockEntry extends FingerprintParts {
  fingerprint: Fingerprint;
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
  /** Each approved output's own hash: the bytes `spx diff` compares with, kept in the cache. */
  approvedOutputs?: Record<string, ContentHash>;
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

/**
 * spx.lock as recorded. It is a record, not a cache (it is committed, and
 * says what the outputs in git were made from), so a damaged one is not
 * quietly started over: exit 2 says where it is wrong and what to do.
 */
export function readLock(root: string): Lock {
  const path = join(root, LOCK_FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return emptyLock();
  }
  const damaged = (problem: string): UserError =>
    new UserError(`${problem}; restore ${LOCK_FILE} from git, or delete it to rebuild every node`, { file: path, line: 1, column: 1 });
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw damaged('not valid JSON (a merge conflict?)');
  }
  if (!isRecord(parsed) || typeof parsed.format !== 'number') throw damaged('no "format" number');
  // Another format is not read at all: its fingerprints mean something else.
  if (parsed.format !== STATE_FORMAT) return { format: parsed.format, nodes: nameTable() };
  if (!isRecord(parsed.nodes)) throw damaged('no "nodes" object');
  for (const node in parsed.nodes) {
    const problem = lockEntryProblem(parsed.nodes[node]);
    if (problem !== undefined) throw damaged(`${keyPath('nodes', node)} is not a node's entry (${problem})`);
  }
  return { format: parsed.format, nodes: withoutPrototype(parsed.nodes as Record<string, LockEntry>) };
}

/**
 * What is wrong with a recorded entry (spx.lock or the journal), or
 * undefined: one pass of `typeof` tests over its fields, well under a
 * millisecond for 1,000 nodes of 10 inputs each.
 */
export function lockEntryProblem(entry: unknown): string | undefined {
  if (!isRecord(entry)) return 'not an object';
  if (typeof entry.fingerprint !== 'string') return '"fingerprint" is not a string';
  if (typeof entry.kind !== 'string') return '"kind" is not a string';
  for (const field of [...HASHED_PARTS, 'outputs'] as const) {
    if (!isStringRecord(entry[field])) return `"${field}" is not an object of hashes`;
  }
  if (entry.generated !== undefined && !isStringRecord(entry.generated)) return '"generated" is not an object of hashes';
  if (entry.approved !== undefined && typeof entry.approved !== 'string') return '"approved" is not a string';
  if (entry.approvedOutputs !== undefined && !isStringRecord(entry.approvedOutputs)) return '"approvedOutputs" is not an object of hashes';
  if (entry.metrics !== undefined) {
    if (!isRecord(entry.metrics)) return '"metrics" is not an object';
    for (const name in entry.metrics) {
      const value = entry.metrics[name];
      if (typeof value !== 'number' && typeof value !== 'string') return `"metrics.${name}" is neither a number nor a string`;
    }
  }
  return undefined;
}

/**
 * Deterministic, diff-friendly text: keys sorted at every level, one field a
 * line, no timestamps, no absolute paths; the same state always gives the
 * same bytes, so the file only changes in git when the build did.
 */
export function formatLock(lock: Lock): string {
  return canonicalJson(lock, 2) + '\n';
}

export function writeLock(root: string, lock: Lock): void {
  writeFileAtomic(join(root, LOCK_FILE), formatLock(lock));
}
