import type { LoadedPipeline } from '../config/types.js';
import type { Cache } from '../cache/cache.js';
import { Graph } from '../graph/graph.js';
import { loadHandlers } from '../nodes/registry.js';
import { InputResolver } from '../files/input-resolver.js';
import { GlobCache } from '../files/glob-cache.js';
import type { BuildState } from '../state/build-state.js';
import type { StatCache } from '../state/stat-cache.js';
import { withHandEdits } from '../state/hand-edits.js';
import { hashOutputs } from '../fingerprint/fingerprint.js';
import { evaluateNode, type Evaluation, type EvaluationContext } from './evaluate.js';
import type { BuildSummary, EventSink } from './events.js';
import { regenerateNode, type NodeRunnerContext } from './node-runner.js';

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
  stateDir: string;
  signal: AbortSignal;
  env: NodeJS.ProcessEnv;
}

type Outcome = 'fresh' | 'ran' | 'restored' | 'stale' | 'failed' | 'skipped' | 'awaiting-review';

/**
 * Walks the graph: each node, once everything it depends on has finished,
 * is checked against spx.lock and, only when stale, restored from the cache
 * or run, independent nodes up to `jobs` at a time. A finished node is
 * recorded at once, so a failed or interrupted build never redoes it.
 */
export async function build(
  pipeline: LoadedPipeline,
  state: BuildState,
  statCache: StatCache,
  options: BuildOptions,
  sink: EventSink,
): Promise<BuildSummary> {
  const started = performance.now();
  const tokens = { spent: 0, saved: 0 };
  const emit: EventSink = (event) => {
    if (event.type === 'success') tokens.spent += Number(event.metrics.totalTokens ?? 0);
    if (event.type === 'restored') tokens.saved += Number(event.metrics.totalTokens ?? 0);
    sink(event);
  };
  const graph = new Graph(pipeline.config);
  const order = graph.closure(options.targets);
  await loadHandlers(order.map((node) => pipeline.config.nodes[node]!.kind));
  const dependents = graph.dependentsWithin(order);
  const resolver = new InputResolver(pipeline.root, GlobCache.load(pipeline.root, options.stateDir));
  const evaluation: EvaluationContext = { pipeline, state, statCache, resolver, env: options.env, stateDir: options.stateDir, signal: options.signal };
  const runner: NodeRunnerContext = {
    pipeline,
    stateDir: options.stateDir,
    state,
    statCache,
    resolver,
    cache: options.cache,
    // --cache-only must name every node that would run, not stop at the first.
    cacheOnly: options.cacheOnly,
    signal: options.signal,
    env: options.env,
    emit,
  };
  const keepGoing = options.keepGoing || options.cacheOnly;
  emit({ type: 'build-start', nodes: order, jobs: options.jobs });

  const outcomes = new Map<string, Outcome>();
  const waitingOn = new Map(order.map((node) => [node, new Set(graph.dependencies(node))]));
  const ready = order.filter((node) => waitingOn.get(node)!.size === 0);
  const toRun: { node: string; evaluation: Evaluation }[] = [];
  let active = 0;
  let stopping = false;

  /**
   * A node with `review: true` holds its dependents back until the hash of
   * its outputs is the approved one: an unapproved plan never reaches an
   * agent, and an edit after approval voids it.
   */
  const passesReview = (node: string): boolean => {
    const config = pipeline.config.nodes[node]!;
    const entry = state.get(node);
    if (!('review' in config) || !config.review || !entry) return true;
    const current = hashOutputs(entry.outputs);
    if (entry.approved === current) return true;
    if (options.approve) {
      state.record(node, { ...entry, approved: current });
      emit({ type: 'approved', node, outputs: config.outputs });
      return true;
    }
    emit({ type: 'review', node, outputs: config.outputs });
    return false;
  };

  /** For a node held at its review gate: what it did before (ran, fresh, restored). */
  const gatedAfter = new Map<string, Outcome>();
  const finish = (node: string, result: Outcome): void => {
    const gated = (result === 'fresh' || result === 'ran' || result === 'restored') && !passesReview(node);
    const outcome: Outcome = gated ? 'awaiting-review' : result;
    outcomes.set(node, outcome);
    if (gated) gatedAfter.set(node, result);
    if (outcome === 'failed' && !keepGoing) stopping = true;
    for (const dependent of dependents.get(node)!) {
      const waiting = waitingOn.get(dependent)!;
      waiting.delete(node);
      if (waiting.size === 0) ready.push(dependent);
    }
  };

  const decide = async (node: string): Promise<void> => {
    const config = pipeline.config.nodes[node]!;
    const blocker = graph.dependencies(node).find((d) => BLOCKING.has(outcomes.get(d)!));
    if (blocker) {
      emit({ type: 'skipped', node, because: blockedBecause(blocker, outcomes.get(blocker)!) });
      return finish(node, 'skipped');
    }
    // In a dry run a stale upstream has not produced its new output, so
    // whether it changes this node cannot be known yet: say so, beside the
    // node's own reasons (judged against the upstream's recorded output).
    const staleNeeds = config.needs.filter((d) => outcomes.get(d) === 'stale');
    if (staleNeeds.length > 0) {
      const own = (await evaluateNode(node, evaluation, false)).reasons;
      emit({ type: 'stale', node, reasons: [...own, ...staleNeeds.map((d) => `"${d}" would run first (its output may change)`)], cached: false });
      return finish(node, 'stale');
    }
    const forced = options.force === 'all' || options.force.has(node);
    const result = await evaluateNode(node, evaluation, forced);
    if (result.fresh) {
      // In a dry run too: the state is then read-only, and dependents must
      // see the edit to be judged as the real build will judge them.
      if (Object.keys(result.editedOutputs).length > 0) state.record(node, withHandEdits(state.get(node)!, result.editedOutputs));
      emit({ type: 'fresh', node, handEdited: result.handEdited });
      return finish(node, 'fresh');
    }
    if (options.dryRun) {
      const cached = options.cache?.lookup(result.fingerprint) !== undefined;
      emit({ type: 'stale', node, reasons: result.reasons, cached });
      return finish(node, 'stale');
    }
    if (!forced) options.cache?.prefetch?.(result.fingerprint, config.outputs);
    toRun.push({ node, evaluation: result });
  };

  await new Promise<void>((resolve, reject) => {
    // One node is decided at a time, in order, as when deciding was synchronous.
    let deciding = false;
    const pump = (): void => {
      if (deciding) return;
      if (ready.length > 0) {
        deciding = true;
        decide(ready.shift()!).then(() => {
          deciding = false;
          pump();
        }, reject);
        return;
      }
      while (toRun.length > 0 && active < options.jobs && !stopping && !options.signal.aborted) {
        const { node, evaluation: result } = toRun.shift()!;
        active++;
        void regenerateNode(node, result, runner).then((outcome) => {
          active--;
          // Said, like any node not built: a task list waits for every node's outcome.
          if (outcome === 'interrupted') emit({ type: 'skipped', node, because: 'the build was interrupted' });
          finish(node, outcome === 'interrupted' ? 'skipped' : outcome);
          pump();
        });
      }
      if (active === 0 && (toRun.length === 0 || stopping || options.signal.aborted)) resolve();
    };
    options.signal.addEventListener('abort', pump, { once: true });
    pump();
  });
  // Uploads to a remote cache run in the background; the build is not over before they are.
  await options.cache?.flush?.();

  for (const node of order) {
    if (!outcomes.has(node)) {
      emit({ type: 'skipped', node, because: options.signal.aborted ? 'the build was interrupted' : 'the build stopped after a failure' });
    }
  }
  resolver.save();
  const summary = summarize(order, outcomes, gatedAfter, options.signal.aborted);
  summary.tokens = tokens;
  if (summary.interrupted) emit({ type: 'interrupted', signal: String(options.signal.reason ?? 'SIGINT') });
  emit({ type: 'build-end', summary, seconds: (performance.now() - started) / 1000 });
  return summary;
}

const BLOCKING: ReadonlySet<Outcome> = new Set(['failed', 'skipped', 'awaiting-review']);

function blockedBecause(blocker: string, outcome: Outcome): string {
  if (outcome === 'failed') return `"${blocker}" failed`;
  if (outcome === 'awaiting-review') return `"${blocker}" awaits review (spx approve ${blocker})`;
  return `"${blocker}" was not built`;
}

/** A node held at its review gate is counted twice: as what it did (it ran, say) and as awaiting review. */
function summarize(
  order: readonly string[],
  outcomes: ReadonlyMap<string, Outcome>,
  gatedAfter: ReadonlyMap<string, Outcome>,
  interrupted: boolean,
): BuildSummary {
  const summary: BuildSummary = { ran: [], restored: [], fresh: [], stale: [], failed: [], skipped: [], awaitingReview: [], interrupted, tokens: { spent: 0, saved: 0 } };
  for (const node of order) {
    const outcome = outcomes.get(node) ?? 'skipped';
    if (outcome !== 'awaiting-review') {
      summary[outcome].push(node);
      continue;
    }
    summary.awaitingReview.push(node);
    const before = gatedAfter.get(node);
    if (before && before !== 'awaiting-review') summary[before].push(node);
  }
  return summary;
}
