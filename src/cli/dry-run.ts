import { BuildState } from '../state/build-state.js';
import { StatCache } from '../state/stat-cache.js';
import { build } from '../scheduler/builder.js';
import type { BuildEvent } from '../scheduler/events.js';
import { LocalCache } from '../cache/local-cache.js';
import { resolveCacheDir } from '../cache/location.js';
import type { Project } from './project.js';

export interface DryRunOptions {
  /** Node names as the user gave them (instances, bare foreach names); empty for all. */
  targets: string[];
  /** `--cache-dir`: the cache that says which stale nodes it holds. */
  cacheDir?: string | undefined;
  /**
   * `spx check`: keep nothing the stat cache learnt, and leave the cache
   * alone (a lookup marks the entry as used), so stale nodes are never
   * "in cache".
   */
  writeNothing: boolean;
  /** Estimate what each stale model node would use (src/cost/). */
  forecast?: boolean;
}

/** spx.lock (with an interrupted build's journal applied) as the dry run will see it; never written. */
export function openRecordedState(project: Project): BuildState {
  return BuildState.open(project.pipeline.root, project.stateDir, { readOnly: true });
}

/**
 * The events of a build that runs nothing: for each node, fresh (and hand
 * edits), stale and why, held at its review gate, or blocked. The judgement
 * `spx status` shows and `spx check` gates on, made once, by the scheduler.
 */
export async function dryRun(project: Project, state: BuildState, options: DryRunOptions): Promise<BuildEvent[]> {
  const { pipeline, stateDir } = project;
  const statCache = StatCache.load(pipeline.root, stateDir);
  const events: BuildEvent[] = [];
  await build(
    pipeline,
    state,
    statCache,
    {
      targets: options.targets,
      jobs: 1,
      keepGoing: true,
      force: new Set(),
      dryRun: true,
      cache: options.writeNothing ? undefined : new LocalCache(resolveCacheDir(options.cacheDir, process.env, stateDir)),
      cacheOnly: false,
      approve: false,
      stateDir,
      signal: new AbortController().signal,
      env: process.env,
      ...(options.forecast ? { forecast: {} } : {}),
    },
    (event) => events.push(event),
  );
  if (!options.writeNothing) statCache.save();
  return events;
}
