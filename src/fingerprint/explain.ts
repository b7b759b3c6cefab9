import type { LockEntry } from '../state/lockfile.js';
import type { FingerprintParts } from './fingerprint.js';
import { ownEntry } from '../util/name-table.js';

/** Past this many changed files of one kind, the rest are counted, not listed. */
const MAX_LISTED = 5;

export type OutputProblem = { path: string; problem: 'missing' };

/**
 * One reason a node is stale, kept as data until a renderer words it (as
 * ninja's explanations.h does): `--json` consumers get the file or setting
 * itself, not a sentence to parse.
 */
export type StaleReason =
  | { reason: 'never-built' }
  | { reason: 'forced' }
  | { reason: 'kind-changed'; from: string; to: string }
  | { reason: 'setting-changed'; setting: string }
  | { reason: 'input-changed' | 'input-added' | 'input-removed'; file: string }
  /** The files of one change past the first few, counted. */
  | { reason: 'more-inputs'; change: 'changed' | 'added' | 'removed'; count: number }
  | { reason: 'now-needs' | 'no-longer-needs' | 'upstream-output-changed'; node: string }
  | { reason: 'env-changed'; variable: string }
  | { reason: 'output-missing'; output: string }
  /** spx.lock was written by another version of spx, which fingerprinted differently. */
  | { reason: 'input-missing'; file: string }
  /** The node kind could not choose its input files; the message is the kind's own. */
  | { reason: 'cannot-select-inputs'; message: string }
  /** In a dry run: a node this one needs would run first, and may change its output. */
  | { reason: 'upstream-will-run'; node: string };

/**
 * Every reason a node is stale, as direct as `ninja -d explain`: which
 * input, which setting, which upstream output changed, or that it never
 * ran. An empty list means the node is fresh: equal parts are an equal
 * fingerprint (evaluate.ts reuses the recorded one).
 */
export function explainStaleness(previous: LockEntry | undefined, current: FingerprintParts, outputs: readonly OutputProblem[]): StaleReason[] {
  if (!previous) return [{ reason: 'never-built' }];
  const reasons: StaleReason[] = [];
  if (previous.kind !== current.kind) reasons.push({ reason: 'kind-changed', from: previous.kind, to: current.kind });
  for (const setting of changedKeys(previous.settings, current.settings)) reasons.push({ reason: 'setting-changed', setting });
  reasons.push(...explainInputs(previous.inputs, current.inputs));
  for (const node of changedKeys(previous.needs, current.needs)) {
    if (!(node in previous.needs)) reasons.push({ reason: 'now-needs', node });
    else if (!(node in current.needs)) reasons.push({ reason: 'no-longer-needs', node });
    else reasons.push({ reason: 'upstream-output-changed', node });
  }
  for (const variable of changedKeys(previous.env, current.env)) reasons.push({ reason: 'env-changed', variable });
  for (const { path } of outputs) reasons.push({ reason: 'output-missing', output: path });
  return reasons;
}

function changedKeys(before: Record<string, string>, after: Record<string, string>): string[] {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...keys].filter((key) => ownEntry(before, key) !== ownEntry(after, key)).sort();
}

function explainInputs(before: Record<string, string>, after: Record<string, string>): StaleReason[] {
  const added: string[] = [];
  const removed: string[] = [];
  const changed: string[] = [];
  for (const path of changedKeys(before, after)) {
    if (!Object.hasOwn(before, path)) added.push(path);
    else if (!Object.hasOwn(after, path)) removed.push(path);
    else changed.push(path);
  }
  return [...listed('changed', changed), ...listed('added', added), ...listed('removed', removed)];
}

function listed(change: 'changed' | 'added' | 'removed', files: string[]): StaleReason[] {
  const reasons: StaleReason[] = files.slice(0, MAX_LISTED).map((file): StaleReason => ({ reason: `input-${change}`, file }));
  if (files.length > MAX_LISTED) reasons.push({ reason: 'more-inputs', change, count: files.length - MAX_LISTED });
  return reasons;
}
