import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic-write.js';
import { isRecord, isStringArray } from '../util/shape.js';

/**
 * The outputs of nodes that left the pipeline (a feature whose directory
 * was removed): a build forgets them in spx.lock but leaves their files,
 * which are the user's; `spx clean --gone` removes them on request. Kept in
 * `.spx/`, local: a damaged file is read as empty.
 */
const FILE = 'gone-outputs.json';

export function goneOutputs(stateDir: string): Record<string, string[]> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(join(stateDir, FILE), 'utf8'));
  } catch {
    return {};
  }
  if (!isRecord(parsed)) return {};
  const gone: Record<string, string[]> = Object.create(null) as Record<string, string[]>;
  for (const [node, outputs] of Object.entries(parsed)) if (isStringArray(outputs)) gone[node] = outputs;
  return gone;
}

/** Adds nodes that just left the pipeline; one that came back since is dropped. */
export function rememberGone(stateDir: string, left: Readonly<Record<string, readonly string[]>>, present: ReadonlySet<string>): void {
  const gone: Record<string, readonly string[]> = {};
  for (const [node, outputs] of Object.entries({ ...goneOutputs(stateDir), ...left })) if (!present.has(node)) gone[node] = outputs;
  writeFileAtomic(join(stateDir, FILE), JSON.stringify(gone, null, 2) + '\n');
}

export function forgetGone(stateDir: string): void {
  rmSync(join(stateDir, FILE), { force: true });
}
