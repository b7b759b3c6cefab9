import type { LoadedPipeline } from '../config/types.js';
import { Graph } from '../graph/graph.js';
import { loadHandlers } from '../nodes/registry.js';
import { InputResolver } from '../files/input-resolver.js';
import { GlobCache } from '../files/glob-cache.js';
import type { BuildState } from '../state/build-state.js';
import type { StatCache } from '../state/stat-cache.js';
import { BuildPolicy } from './build-policy.js';
import type { BuildOptions, BuildSeams } from './build-options.js';
import type { BuildEvent, BuildSummary, EventSink } from './events.js';
import { regenerateNode } from './node-runner.js';
import { diskFiles } from './project-files.js';
import { walk, type Outcome } from './walk.js';
import { roundSeconds } from '../util/round-seconds.js';

/**
 * Brings the targets up to date: each node, once everything it depends on
 * has finished, is checked against spx.lock and, only when stale, restored
 * from the cache or run. A finished node is recorded at once, so a failed
 * or interrupted build never redoes it.
 */
export async function build(
  pipeline: LoadedPipeline,
  state: BuildState,
  statCache: StatCache,
  options: BuildOptions,
  sink: EventSink,
): Promise<BuildSummary> {
  const resolver = new InputResolver(pipeline.root, GlobCache.load(pipeline.root, options.stateDir), options.witness);
  const { stateDir, cache, cacheOnly, signal, env } = options;
  const seams: BuildSeams = {
    files: diskFiles(pipeline.root, statCache, resolver),
    // --cache-only must name every model node the cache lacks, not stop at the first.
    regenerate: (node, evaluation, emit) =>
      regenerateNode(node, evaluation, { pipeline, stateDir, state, statCache, resolver, cache, cacheOnly, signal, env, emit }),
  };
  const summary = await buildWith(pipeline, state, options, sink, seams);
  resolver.save();
  return summary;
}

/** `build` through the given seams. */
export async function buildWith(
  pipeline: LoadedPipeline,
  state: BuildState,
  options: BuildOptions,
  sink: EventSink,
  seams: BuildSeams,
): Promise<BuildSummary> {
  const started = performance.now();
  const tokens = { spent: 0, saved: 0 };
  const emit = countingTokens(tokens, sink);
  const graph = new Graph(pipeline.config);
  const order = graph.closure(options.targets);
  await loadHandlers(order.map((node) => pipeline.config.nodes[node]!.kind));
  const dependents = graph.dependentsWithin(order);
  const dependencies = Object.fromEntries(order.map((node) => [node, [...graph.dependencies(node)]]));
  emit({ type: 'build-start', nodes: order, jobs: options.jobs, dependencies });

  const policy = new BuildPolicy(pipeline, state, options, seams, emit);
  const outcomes = await walk(
    { order, dependencies: (node) => graph.dependencies(node), dependents: (node) => dependents.get(node)! },
    policy,
    // --cache-only must name every model node the cache lacks, not stop at the first.
    { jobs: options.jobs, keepGoing: options.keepGoing || options.cacheOnly, signal: options.signal },
  );
  // Uploads to a remote cache run in the background; the build is not over before they are.
  await options.cache?.flush?.();

  const summary = summarize(order, outcomes, policy.gatedAfter, options.signal.aborted, tokens);
  if (policy.forecast) summary.forecast = policy.forecast.totals();
  const overBudget = policy.budget?.overBudget();
  if (overBudget) summary.overBudget = overBudget;
  if (summary.interrupted) emit({ type: 'interrupted', signal: String(options.signal.reason ?? 'SIGINT') });
  emit({ type: 'build-end', summary, seconds: roundSeconds((performance.now() - started) / 1000) });
  return summary;
}

/** Model tokens spent by the nodes that ran, and saved by those restored from the cache. */
function countingTokens(tokens: BuildSummary['tokens'], sink: EventSink): EventSink {
  return (event: BuildEvent) => {
    if (event.type === 'success') tokens.spent += Number(event.metrics.totalTokens ?? 0);
    if (event.type === 'restored') tokens.saved += Number(event.metrics.totalTokens ?? 0);
    sink(event);
  };
}

/** A node held at its review gate is counted twice: as what it did (it ran, say) and as awaiting review. */
function summarize(
  order: readonly string[],
  outcomes: ReadonlyMap<string, Outcome>,
  gatedAfter: ReadonlyMap<string, Outcome>,
  interrupted: boolean,
  tokens: BuildSummary['tokens'],
): BuildSummary {
  const summary: BuildSummary = { ran: [], restored: [], fresh: [], stale: [], failed: [], skipped: [], awaitingReview: [], interrupted, tokens };
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
