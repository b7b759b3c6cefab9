import type { ContentHash } from '../util/hash.js';
import { mergeTables, ownEntry } from '../util/name-table.js';
import type { LockEntry } from './lockfile.js';

/**
 * A node's record after a human edited some of its outputs: the edits
 * become the recorded outputs (so dependents see them), and the hashes spx
 * wrote are remembered, so that a later regeneration backs the edits up and
 * status can say "edited by hand". An edit reverted to what spx wrote is no
 * longer one.
 */
export function withHandEdits(entry: LockEntry, current: Record<string, ContentHash>): LockEntry {
  const changed = Object.keys(current).filter((path) => current[path] !== ownEntry(entry.outputs, path));
  if (changed.length === 0) return entry;
  const generated = mergeTables(entry.generated);
  for (const path of changed) generated[path] ??= ownEntry(entry.outputs, path)!;
  for (const [path, hash] of Object.entries(current)) {
    if (generated[path] === hash) delete generated[path];
  }
  const updated: LockEntry = { ...entry, outputs: mergeTables(entry.outputs, current) };
  if (Object.keys(generated).length > 0) updated.generated = generated;
  else delete updated.generated;
  return updated;
}
