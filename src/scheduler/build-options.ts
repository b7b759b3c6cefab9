import type { Cache } from '../cache/cache.js';
import type { ForecastOptions } from '../cost/forecast.js';
import type { Spend } from '../cost/spend.js';
import type { Budget } from '../config/types.js';
import type { Witness } from '../files/witness.js';
import type { Evaluation } from './evaluate.js';
import type { EventSink } from './events.js';
import type { NodeOutcome } from './node-runner.js';
import type { ProjectFiles } from './project-files.js';

export interface BuildOptions {
  /** Nodes to build with what they depend on; empty means all. */
  targets: string[];
  jobs: number;
  keepGoing: boolean;
  /** Nodes to rebuild even when fresh: all of them, or the named ones. */
  force: 'all' | ReadonlySet<string>;
  /** Say what would run, and why, without running anything. */
  dryRun: boolean;
  /** Undefined with --no-cache. */
  cache: Cache | undefined;
  /** Fail every node that would have to run, instead of running it. */
  cacheOnly: boolean;
  /** Approve every output that awaits review, as `spx approve` would (CI). */
  approve: boolean;
  /**
   * `spx build --watch`: a stale node that would call a model or an agent is
   * reported stale instead of run, as in a dry run (a save must not spend
   * tokens or touch the tree). Its dependents wait with it.
   */
  holdModelNodes?: boolean;
  stateDir: string;
  signal: AbortSignal;
  env: NodeJS.ProcessEnv;
  /** A dry run estimates what each stale model node would use (`--dry-run`, `spx status`, a budget's check). */
  forecast?: ForecastOptions;
  /** Once the calls' spend (shared by the builds of one command) crosses these limits, no further model node starts. */
  budget?: { limits: Budget; spent: Spend };
  /** Hears every file and directory listing the build's judgement rests on (a build that may leave a fresh snapshot). */
  witness?: Witness;
}

/**
 * Where a build meets the world: how it reads the project, and how a stale
 * node is brought up to date (ninja's DiskInterface and CommandRunner). The
 * scheduler's in-process tests put a map and a fake runner here.
 */
export interface BuildSeams {
  files: ProjectFiles;
  /** Restores the node from the cache or runs it, records it, and says so through `emit`. */
  regenerate(node: string, evaluation: Evaluation, emit: EventSink): Promise<NodeOutcome>;
}
