import type { LoadedPipeline } from '../config/types.js';
import type { Cache } from '../cache/cache.js';
import { Graph } from '../graph/graph.js';
import { InputResolver } from '../files/input-resolver.js';
import type { BuildState } from '../state/build-state.js';
import type { StatCache } from '../state/stat-cache.js';
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
  stateDir: string;
  signal: AbortSignal;
  env: NodeJS.ProcessEnv;
}

type Outcome = 'fresh' | 'ran' | 'restored' | 'stale' | 'failed' | 'skipped';

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
  emit: EventSink,
): Promise<BuildSummary> {
  const started = performance.now();
  const graph = new Graph(pipeline.config);
  const order = graph.closure(options.targets);
  const dependents = graph.dependentsWithin(order);
  const resolver = new InputResolver(pipeline.root);
  const evaluation: EvaluationContext = { pipeline, state, statCache, resolver, env: options.env };
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

  const finish = (node: string, outcome: Outcome): void => {
    outcomes.set(node, outcome);
    if (outcome === 'failed' && !keepGoing) stopping = true;
    for (const dependent of dependents.get(node)!) {
      const waiting = waitingOn.get(dependent)!;
      waiting.delete(node);
      if (waiting.size === 0) ready.push(dependent);
    }
  };

  const decide = (node: string): void => {
    const config = pipeline.config.nodes[node]!;
    const blocker = graph.dependencies(node).find((d) => outcomes.get(d) === 'failed' || outcomes.get(d) === 'skipped');
    if (blocker) {
      emit({ type: 'skipped', node, because: `"${blocker}" ${outcomes.get(blocker) === 'failed' ? 'failed' : 'was not built'}` });
      return finish(node, 'skipped');
    }
    // In a dry run a stale upstream has not produced its new output, so what
    // it would do to this node cannot be known yet: say so.
    const staleNeeds = config.needs.filter((d) => outcomes.get(d) === 'stale');
    if (staleNeeds.length > 0) {
      emit({ type: 'stale', node, reasons: staleNeeds.map((d) => `"${d}" is stale`), cached: false });
      return finish(node, 'stale');
    }
    const forced = options.force === 'all' || options.force.has(node);
    const result = evaluateNode(node, evaluation, forced);
    if (result.fresh) {
      // In a dry run too: the state is then read-only, and dependents must
      // see the edit to be judged as the real build will judge them.
      keepHandEdits(node, result, state);
      emit({ type: 'fresh', node, handEdited: result.handEdited });
      return finish(node, 'fresh');
    }
    if (options.dryRun) {
      const cached = options.cache?.lookup(result.fingerprint) !== undefined;
      emit({ type: 'stale', node, reasons: result.reasons, cached });
      return finish(node, 'stale');
    }
    toRun.push({ node, evaluation: result });
  };

  await new Promise<void>((resolve) => {
    const pump = (): void => {
      while (ready.length > 0) decide(ready.shift()!);
      while (toRun.length > 0 && active < options.jobs && !stopping && !options.signal.aborted) {
        const { node, evaluation: result } = toRun.shift()!;
        active++;
        void regenerateNode(node, result, runner).then((outcome) => {
          active--;
          finish(node, outcome === 'interrupted' ? 'skipped' : outcome);
          pump();
        });
      }
      if (active === 0 && (toRun.length === 0 || stopping || options.signal.aborted)) resolve();
    };
    options.signal.addEventListener('abort', pump, { once: true });
    pump();
  });

  for (const node of order) {
    if (!outcomes.has(node)) {
      emit({ type: 'skipped', node, because: options.signal.aborted ? 'the build was interrupted' : 'the build stopped after a failure' });
    }
  }
  const summary = summarize(order, outcomes, options.signal.aborted);
  if (summary.interrupted) emit({ type: 'interrupted', signal: String(options.signal.reason ?? 'SIGINT') });
  emit({ type: 'build-end', summary, seconds: (performance.now() - started) / 1000 });
  return summary;
}

/**
 * A fresh node whose output a human edited: the edit becomes the recorded
 * output (so dependents see it), and the hash spx wrote is remembered so
 * that a later regeneration backs the edit up first.
 */
function keepHandEdits(node: string, evaluation: Evaluation, state: BuildState): void {
  const changed = Object.keys(evaluation.editedOutputs);
  if (changed.length === 0) return;
  const previous = state.get(node)!;
  const generated = { ...previous.generated };
  for (const path of changed) generated[path] ??= previous.outputs[path]!;
  for (const [path, hash] of Object.entries(evaluation.editedOutputs)) {
    if (generated[path] === hash) delete generated[path];
  }
  const entry = { ...previous, outputs: { ...previous.outputs, ...evaluation.editedOutputs } };
  if (Object.keys(generated).length > 0) entry.generated = generated;
  else delete entry.generated;
  state.record(node, entry);
}

function summarize(order: readonly string[], outcomes: ReadonlyMap<string, Outcome>, interrupted: boolean): BuildSummary {
  const summary: BuildSummary = { ran: [], restored: [], fresh: [], stale: [], failed: [], skipped: [], interrupted };
  for (const node of order) summary[outcomes.get(node) ?? 'skipped'].push(node);
  return summary;
}
