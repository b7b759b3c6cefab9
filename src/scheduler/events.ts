import type { ForecastTotals, NodeEstimate } from '../cost/estimate.js';
import type { Spend } from '../cost/spend.js';
import type { Budget } from '../config/types.js';
import type { StaleReason } from '../fingerprint/explain.js';

/**
 * What a build reports. The scheduler never prints: it emits these typed
 * events and a renderer (live task list, plain lines, `--json`) turns them
 * into output, as in wireit's event.ts. Reasons are data, worded only by
 * the renderer (render/describe.ts).
 */
export type BuildEvent =
  /** `dependencies`: what each node waits for (its needs and uses within the build). */
  | { type: 'build-start'; nodes: string[]; jobs: number; dependencies: Record<string, string[]> }
  /** Fingerprint matches spx.lock; `handEdited` lists outputs a human changed, kept as they are. */
  | { type: 'fresh'; node: string; handEdited: string[] }
  /** Stale, but its outputs for this fingerprint were in the cache: restored instead of run. */
  | { type: 'restored'; node: string; reasons: StaleReason[]; savedSeconds: number; metrics: Record<string, number | string>; output: string }
  /**
   * An output spx did not write as it is (`edited` by hand, or there before
   * the node was ever recorded) was copied aside before the node regenerated it.
   */
  | { type: 'backup'; node: string; output: string; backup: string; why: 'edited' | 'unrecorded' }
  /** Something went wrong that does not fail the build (e.g. a corrupt cache entry). */
  | { type: 'warning'; node: string; message: string }
  /** Something went wrong with the cache as a whole, not for one node (the remote cache is unreachable): said once. */
  | { type: 'cache-warning'; message: string }
  /** Stale: it waits for a job slot (-j) to restore or run it. For a live display; `--json` leaves it out. */
  | { type: 'queued'; node: string }
  /** Took a job slot: now restoring from the cache or running. For a live display; `--json` leaves it out. */
  | { type: 'working'; node: string }
  /** About to run; `reasons` says why it is stale. */
  | { type: 'start'; node: string; reasons: StaleReason[]; description: string }
  /** `--dry-run` / `spx status`: would run, and why; a model node that would call its model, what it would use (src/cost/). */
  | { type: 'stale'; node: string; reasons: StaleReason[]; cached: boolean; estimate?: NodeEstimate }
  | { type: 'output'; node: string; stream: 'stdout' | 'stderr'; text: string }
  /** `metrics`: what the run measured (a bundle's tokens, a model call's usage). */
  | { type: 'success'; node: string; seconds: number; output: string; metrics: Record<string, number | string> }
  /** A one-line note on a running node's progress. */
  | { type: 'progress'; node: string; message: string }
  | ({ type: 'failure'; node: string; output: string; seconds: number } & FailureReason)
  /** Not attempted because a node it depends on failed or was not built. */
  | { type: 'skipped'; node: string; because: SkipReason }
  /** A `review: true` node's output awaits `spx approve`; its dependents wait. */
  | { type: 'review'; node: string; outputs: string[] }
  /** `--approve`: the output was approved without asking. */
  | { type: 'approved'; node: string; outputs: string[] }
  | { type: 'interrupted'; signal: string }
  | { type: 'build-end'; summary: BuildSummary; seconds: number }
  // Said by `spx build` around the scheduler's run, so that `--json` has them too.
  /** Another build holds the project lock; this one waits for it. */
  | { type: 'lock-wait'; holder: string }
  /** `--no-wait`, and another build holds the project lock: nothing is built. */
  | { type: 'lock-busy'; holder: string }
  /** The build stopped at this node's review gate, and no one was asked: what to do next. */
  | { type: 'review-hint'; node: string; outputs: string[]; /** Lines changed since the last approval, when its bytes are at hand. */ sinceApproved?: { added: number; removed: number } }
  /** `--cache-only`: the model and agent nodes the cache did not have (and those left unbuilt behind them). */
  | { type: 'cache-only-misses'; nodes: string[] }
  /** Ctrl-C at the review prompt: nothing was approved. */
  | { type: 'review-prompt-interrupted' }
  // Said by `spx build --watch` around each build it shows (a change that leaves every node as it was is not shown).
  /**
   * Build number `build` (1, 2, …) of a watch begins; its own build-start …
   * build-end follow. `changed`: the project paths whose change set it off
   * (empty for the first build and a key press).
   */
  | { type: 'watch-build-start'; build: number; trigger: 'start' | 'change' | 'key'; changed: string[] }
  /**
   * Build `build` is over and the watch waits for changes. `held`: the stale
   * nodes that call a model or an agent, not run on save; `input`: how the
   * user runs them here: a key on a terminal, a line `m` on piped stdin, or not at all.
   */
  | { type: 'watch-build-end'; build: number; held: string[]; input: 'keys' | 'lines' | 'none' }
  /** The pipeline file changed and does not load: the watch goes on with the pipeline as it was. */
  | { type: 'watch-pipeline-error'; message: string }
  /** The forecast exceeds the budget: nothing was built, no model was called. `nodes`: each model node that would run, with its estimate. */
  | { type: 'budget-refused'; budget: Budget; forecast: ForecastTotals; nodes: { node: string; estimate: NodeEstimate }[] }
  /** Actual spend crossed the budget during the build: `notStarted` are the model nodes it kept from starting. */
  | { type: 'budget-crossed'; budget: Budget; spent: Spend; notStarted: string[] };

/** Why a node failed; `message` where the words are the user's command's or the node kind's own. */
export type FailureReason =
  /** The node kind's own failure (a command's exit, a provider's error, a failed verify). */
  | { reason: 'node-failure'; message: string }
  /** The kind could not choose its input files. */
  | { reason: 'selection'; message: string }
  | { reason: 'missing-input'; files: string[] }
  /** `--cache-only`, and the cache did not have the outputs of this model or agent node. */
  | { reason: 'cache-miss' }
  /** A bug in spx, not in the pipeline. */
  | { reason: 'internal'; message: string };

/** Why a node was not attempted. */
export type SkipReason =
  | { reason: 'dependency-failed' | 'awaiting-review' | 'not-built'; node: string }
  | { reason: 'interrupted' }
  | { reason: 'stopped-after-failure' }
  /** A model node not started: the build's actual spend had crossed its budget. */
  | { reason: 'over-budget' };

export interface BuildSummary {
  ran: string[];
  restored: string[];
  fresh: string[];
  stale: string[];
  failed: string[];
  skipped: string[];
  /** Review nodes whose output awaits `spx approve` (also listed under ran, restored or fresh). */
  awaitingReview: string[];
  interrupted: boolean;
  /** Model tokens this build spent, and those that cache hits saved. */
  tokens: { spent: number; saved: number };
  /** A forecasting dry run: what the stale model nodes would use, in total. */
  forecast?: ForecastTotals;
  /** The build had a budget and its calls' spend crossed it (`--max-tokens`, `--max-cost`, `budget:`). */
  overBudget?: { budget: Budget; spent: Spend; notStarted: string[] };
}

export type EventSink = (event: BuildEvent) => void;
