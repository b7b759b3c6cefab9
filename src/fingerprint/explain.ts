import type { LockEntry } from '../state/lockfile.js';
import type { FingerprintParts } from './fingerprint.js';
import { ownEntry } from '../util/name-table.js';

/** Past this many changed files of one kind, the rest are counted, not listed. */
const MAX_LISTED = 5;

export type OutputProblem = { path: string; problem: 'missing' };

/**
 * One line per reason a node is stale, as direct as `ninja -d explain`:
 * which input, which setting, which upstream output changed, or that it
 * never ran. An empty list means the node is fresh.
 */
export function explainStaleness(previous: LockEntry | undefined, current: FingerprintParts, outputs: readonly OutputProblem[]): string[] {
  if (!previous) return ['never built'];
  const reasons: string[] = [];
  if (previous.kind !== current.kind) reasons.push(`kind changed from ${previous.kind} to ${current.kind}`);
  for (const name of changedKeys(previous.settings, current.settings)) reasons.push(`setting "${name}" changed`);
  reasons.push(...describeFiles('input', previous.inputs, current.inputs));
  for (const name of changedKeys(previous.needs, current.needs)) {
    if (!(name in previous.needs)) reasons.push(`now needs "${name}"`);
    else if (!(name in current.needs)) reasons.push(`no longer needs "${name}"`);
    else reasons.push(`output of "${name}" changed`);
  }
  for (const name of changedKeys(previous.env, current.env)) reasons.push(`environment variable ${name} changed`);
  for (const { path, problem } of outputs) reasons.push(`output ${path} ${problem}`);
  if (reasons.length === 0) reasons.push('state format changed');
  return reasons;
}

function changedKeys(before: Record<string, string>, after: Record<string, string>): string[] {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...keys].filter((key) => ownEntry(before, key) !== ownEntry(after, key)).sort();
}

function describeFiles(label: string, before: Record<string, string>, after: Record<string, string>): string[] {
  const added: string[] = [];
  const removed: string[] = [];
  const changed: string[] = [];
  for (const path of changedKeys(before, after)) {
    if (!Object.hasOwn(before, path)) added.push(path);
    else if (!Object.hasOwn(after, path)) removed.push(path);
    else changed.push(path);
  }
  return [...listed(`${label} changed`, changed), ...listed(`${label} added`, added), ...listed(`${label} removed`, removed)];
}

function listed(prefix: string, paths: string[]): string[] {
  const lines = paths.slice(0, MAX_LISTED).map((path) => `${prefix}: ${path}`);
  if (paths.length > MAX_LISTED) lines.push(`${prefix}: … and ${paths.length - MAX_LISTED} more`);
  return lines;
}
