import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic-write.js';
import type { BuildSummary } from '../scheduler/events.js';

/** What the last build of this project asked of the cache, for `spx cache stats`. */
export interface LastBuildStats {
  /** Stale nodes restored from the cache. */
  hits: string[];
  /** Stale nodes the cache did not have, which ran. */
  misses: string[];
  savedSeconds: number;
}

const FILE = 'last-build.json';

export function writeLastBuildStats(stateDir: string, summary: BuildSummary, savedSeconds: number): void {
  const stats: LastBuildStats = { hits: summary.restored, misses: summary.ran, savedSeconds };
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
