import type { LoadedPipeline } from '../config/types.js';
import { Graph } from '../graph/graph.js';
import { InputResolver } from '../files/input-resolver.js';
import { hashOutput } from '../files/output-hash.js';
import { handlerFor } from '../nodes/registry.js';
import { NodeFailure } from '../nodes/kind.js';
import type { BuildState } from '../state/build-state.js';
import type { LockEntry } from '../state/lockfile.js';
import type { StatCache } from '../state/stat-cache.js';
import type { ContentHash } from '../util/hash.js';
import { evaluateNode, type Evaluation, type EvaluationContext } from './evaluate.js';
import type { BuildSummary, EventSink } from './events.js';
import { OutputBuffer } from './output-buffer.js';

export interface BuildOptions {
  /** Nodes to build with what they depend on; empty means all. */
  targets: string[];
  jobs: number;
  keepGoing: boolean;
  /** Nodes to rebuild even when fresh: all of them, or the named ones. */
  force: 'all' | ReadonlySet<string>;
  /** Say what would run, and why, without running anything. */
  dryRun: boolean;
  signal: AbortSignal;
  env: NodeJS.ProcessEnv;
}

type Outcome = 'fresh' | 'ran' | 'stale' | 'failed' | 'skipped';

/**
 * Walks the graph: each node, once everything it depends on has finished,
 * is checked against spx.lock and run only when stale, independent nodes
 * up to `jobs` at a time. A finished node is recorded at once, so a failed
 * or interrupted build never redoes finished work.
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
  const context: EvaluationContext = { pipeline, state, statCache, resolver: new InputResolver(pipeline.root), env: options.env };
  emit({ type: 'build-start', nodes: order, jobs: options.jobs });

  const outcomes = new Map<string, Outcome>();
  const waitingOn = new Map(order.map((node) => [node, new Set(graph.dependencies(node))]));
  const ready = order.filter((node) => waitingOn.get(node)!.size === 0);
  const toRun: { node: string; evaluation: Evaluation }[] = [];
  let active = 0;
  let stopping = false;

  const finish = (node: string, outcome: Outcome): void => {
    outcomes.set(node, outcome);
    if (outcome === 'failed' && !options.keepGoing) stopping = true;
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
      emit({ type: 'stale', node, reasons: staleNeeds.map((d) => `"${d}" is stale`) });
      return finish(node, 'stale');
    }
    const forced = options.force === 'all' || options.force.has(node);
    const evaluation = evaluateNode(node, context, forced);
    if (evaluation.fresh) {
      emit({ type: 'fresh', node });
      return finish(node, 'fresh');
    }
    if (options.dryRun) {
      emit({ type: 'stale', node, reasons: evaluation.reasons });
      return finish(node, 'stale');
    }
    toRun.push({ node, evaluation });
  };

  const runNode = async (node: string, evaluation: Evaluation): Promise<Outcome> => {
    const config = pipeline.config.nodes[node]!;
    const handler = handlerFor(config);
    const output = new OutputBuffer();
    const nodeStarted = performance.now();
    const elapsed = (): number => (performance.now() - nodeStarted) / 1000;
    emit({ type: 'start', node, reasons: evaluation.reasons, description: handler.describe(config) });
    try {
      if (evaluation.missingInputs.length > 0) {
        throw new NodeFailure(`input file not found: ${evaluation.missingInputs.join(', ')}`);
      }
      await handler.run(config, {
        root: pipeline.root,
        node,
        signal: options.signal,
        onOutput: (stream, text) => {
          output.append(text);
          emit({ type: 'output', node, stream, text });
        },
      });
      context.resolver.invalidate();
      const outputs: Record<string, ContentHash> = {};
      for (const path of config.outputs) {
        const hash = hashOutput(statCache, pipeline.root, path);
        if (hash === undefined) throw new NodeFailure(`the command succeeded but did not write the declared output ${path}`);
        outputs[path] = hash;
      }
      const entry: LockEntry = { fingerprint: evaluation.fingerprint, ...evaluation.parts, outputs };
      state.record(node, entry);
      emit({ type: 'success', node, seconds: elapsed(), output: output.text() });
      return 'ran';
    } catch (error) {
      if (options.signal.aborted) return 'skipped';
      const message = error instanceof NodeFailure ? error.message : `internal error: ${String(error)}`;
      emit({ type: 'failure', node, message, output: output.text(), seconds: elapsed() });
      return 'failed';
    }
  };

  await new Promise<void>((resolve) => {
    const pump = (): void => {
      while (ready.length > 0) decide(ready.shift()!);
      while (toRun.length > 0 && active < options.jobs && !stopping && !options.signal.aborted) {
        const { node, evaluation } = toRun.shift()!;
        active++;
        void runNode(node, evaluation).then((outcome) => {
          active--;
          finish(node, outcome);
          pump();
        });
      }
      if (active === 0 && (toRun.length === 0 || stopping || options.signal.aborted)) resolve();
    };
    options.signal.addEventListener('abort', pump, { once: true });
    pump();
  });

  const summary = summarize(order, outcomes, options.signal.aborted);
  for (const node of order) {
    if (!outcomes.has(node)) emit({ type: 'skipped', node, because: options.signal.aborted ? 'the build was interrupted' : 'the build stopped after a failure' });
  }
  if (summary.interrupted) emit({ type: 'interrupted', signal: String(options.signal.reason ?? 'SIGINT') });
  emit({ type: 'build-end', summary, seconds: (performance.now() - started) / 1000 });
  return summary;
}

function summarize(order: readonly string[], outcomes: ReadonlyMap<string, Outcome>, interrupted: boolean): BuildSummary {
  const summary: BuildSummary = { ran: [], fresh: [], stale: [], failed: [], skipped: [], interrupted };
  for (const node of order) {
    const outcome = outcomes.get(node) ?? 'skipped';
    summary[outcome === 'ran' ? 'ran' : outcome].push(node);
  }
  return summary;
}
