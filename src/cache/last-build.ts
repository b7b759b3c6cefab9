import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic-write.js';
import type { BuildSummary } from '../scheduler/events.js';
import type { RemoteStats } from './tiered-cache.js';

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
  const stats: LastBuildStats = { hits: summary.restored, misses: summary.ran, savedSeconds, ...(remote ? { remote } : {}) };
  try {
    writeFileAtomic(join(stateDir, FILE), JSON.stringify(stats, null, 2) + '\n');
  } catch {
    // Statistics only.
  }
}

export function readLastBuildStats(stateDir: string): LastBuildStats | undefined {
  try {
    return JSON.parse(readFileSync(join(stateDir, FILE), 'utf8')) as LastBuildStats;
  } catch {
    return undefined;
  }
}
