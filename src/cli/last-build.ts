import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic-write.js';
import { isRecord, isStringArray } from '../util/shape.js';
import type { BuildSummary } from '../scheduler/events.js';
import type { RemoteStats } from '../cache/tiered-cache.js';
import { roundSeconds } from '../util/round-seconds.js';

/** What the last build of this project asked of the cache, for `spx cache stats`. */
export interface LastBuildStats {
  /** Stale nodes restored from the cache. */
  hits: string[];
  /** Stale nodes the cache did not have, which ran. */
  misses: string[];
  savedSeconds: number;
  /** What the remote cache did, when one was configured. */
  remote?: RemoteStats;
}

const FILE = 'last-build.json';

export function writeLastBuildStats(stateDir: string, summary: BuildSummary, savedSeconds: number, remote?: RemoteStats): void {
  const stats: LastBuildStats = { hits: summary.restored, misses: summary.ran, savedSeconds: roundSeconds(savedSeconds), ...(remote ? { remote } : {}) };
  try {
    writeFileAtomic(join(stateDir, FILE), JSON.stringify(stats, null, 2) + '\n');
  } catch {
    // Statistics only.
  }
}

/** The last build's statistics, or undefined when none were recorded or the file is damaged: they only inform. */
export function readLastBuildStats(stateDir: string): LastBuildStats | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(join(stateDir, FILE), 'utf8'));
  } catch {
    return undefined;
  }
  if (!isRecord(parsed) || !isStringArray(parsed.hits) || !isStringArray(parsed.misses) || typeof parsed.savedSeconds !== 'number') return undefined;
  if (parsed.remote !== undefined && !isRemoteStats(parsed.remote)) return undefined;
  return parsed as unknown as LastBuildStats;
}

function isRemoteStats(value: unknown): value is RemoteStats {
  return (
    isRecord(value) &&
    typeof value.location === 'string' &&
    typeof value.readOnly === 'boolean' &&
    typeof value.hits === 'number' &&
    typeof value.misses === 'number' &&
    typeof value.uploads === 'number' &&
    typeof value.errors === 'number' &&
    (value.unavailable === undefined || typeof value.unavailable === 'string')
  );
}
