import type { LoadedPipeline, NodeConfig } from '../config/types.js';
import { pendingReview } from '../state/approval.js';
import type { BuildState } from '../state/build-state.js';
import { withHandEdits } from '../state/hand-edits.js';
import type { BuildOptions, BuildSeams } from './build-options.js';
import { BuildForecast } from './build-forecast.js';
import { BudgetGuard } from './budget-guard.js';
import { lockEntryFor } from './node-runner.js';
import { evaluateNode, type EvaluationContext } from './evaluate.js';
import type { EventSink, SkipReason } from './events.js';
import type { Job, NotAttempted, Outcome, WalkPolicy } from './walk.js';

/**
 * What `spx build` does with each node the walk hands it: the review gate,
 * dry runs, `--force`, hand edits kept as outputs, the cache prefetch, and
 * the watch's "no model on save".
 * The walk owns the order, the `-j` cap and stopping.
 */
export class BuildPolicy implements WalkPolicy {
  /** For a node held at its review gate: what it did before (ran, fresh, restored). */
  readonly gatedAfter = new Map<string, Outcome>();
  /** A forecasting dry run's estimates. */
  readonly forecast: BuildForecast | undefined;
  /** `--max-tokens`, `--max-cost`, `budget:`: no model node starts once the calls' spend crossed it. */
  readonly budget: BudgetGuard | undefined;
  private readonly evaluation: EvaluationContext;
  /** A forecasting dry run's nodes the cache would restore: their dependents are judged against the cached outputs. */
  private readonly restorable = new Set<string>();

  constructor(
    private readonly pipeline: LoadedPipeline,
    private readonly state: BuildState,
    private readonly options: BuildOptions,
    private readonly seams: BuildSeams,
    private readonly emit: EventSink,
  ) {
    // The build's signal stops what a kind runs to select its inputs (a fromCommand).
    this.evaluation = { pipeline, state, files: seams.files, env: options.env, stateDir: options.stateDir, signal: options.signal };
    if (options.dryRun && options.forecast) this.forecast = new BuildForecast(pipeline, state, options.stateDir, options.forecast);
    if (!options.dryRun && options.budget) this.budget = new BudgetGuard(options.budget, pipeline, state, emit);
  }

  async decide(node: string, outcomes: ReadonlyMap<string, Outcome>): Promise<Outcome | Job> {
    const { options, state, emit } = this;
    const config = this.pipeline.config.nodes[node]!;
    // In a dry run a stale upstream has not produced its new output, so
    // whether it changes this node cannot be known yet: say so, beside the
    // node's own reasons (judged against the upstream's recorded output).
    const staleNeeds = config.needs.filter((dependency) => outcomes.get(dependency) === 'stale' && !this.restorable.has(dependency));
    if (staleNeeds.length > 0) {
      const own = await evaluateNode(node, this.evaluation, false);
      const estimate = await this.forecast?.estimate(node, own, outcomes);
      const reasons = [...own.reasons, ...staleNeeds.map((d) => ({ reason: 'upstream-will-run', node: d }) as const)];
      emit({ type: 'stale', node, reasons, cached: false, ...(estimate ? { estimate } : {}) });
      return 'stale';
    }
    const forced = options.force === 'all' || options.force.has(node);
    const result = await evaluateNode(node, this.evaluation, forced);
    if (result.fresh) {
      // In a dry run too: the state is then read-only, and dependents must
      // see the edit to be judged as the real build will judge them.
      if (Object.keys(result.editedOutputs).length > 0) state.record(node, withHandEdits(state.get(node)!, result.editedOutputs));
      emit({ type: 'fresh', node, handEdited: result.handEdited });
      return 'fresh';
    }
    if (options.dryRun) {
      // --force runs the node again: the cache does not stand in for it.
      const entry = forced ? undefined : options.cache?.lookup(result.fingerprint);
      // A restore calls no model: it costs nothing. Its outputs, recorded in
      // memory only (a dry run's state is never written), let dependents be
      // judged against them, so that a build the cache holds whole forecasts 0.
      if (entry && this.forecast) {
        const outputs = Object.fromEntries(Object.entries(entry.outputs).map(([declared, output]) => [declared, output.hash]));
        state.record(node, lockEntryFor(result, outputs, state.get(node), entry.metrics));
        this.restorable.add(node);
      }
      const cached = entry !== undefined;
      const estimate = cached ? undefined : await this.forecast?.estimate(node, result, outcomes);
      emit({ type: 'stale', node, reasons: result.reasons, cached, ...(estimate ? { estimate } : {}) });
      return 'stale';
    }
    // --watch: a save never calls a model or an agent; the node is said to be stale.
    if (options.holdModelNodes && callsProvider(config)) {
      emit({ type: 'stale', node, reasons: result.reasons, cached: options.cache?.lookup(result.fingerprint) !== undefined });
      return 'stale';
    }
    if (!forced) options.cache?.prefetch?.(result.fingerprint, config.outputs);
    emit({ type: 'queued', node });
    const job = (): ReturnType<Job> => {
      emit({ type: 'working', node });
      return this.seams.regenerate(node, result, emit);
    };
    return this.budget ? this.budget.guard(node, () => !forced && options.cache?.lookup(result.fingerprint) !== undefined, job) : job;
  }

  /** A node that is up to date but awaits review holds its dependents back; --approve approves it. */
  settle(node: string, outcome: Outcome): Outcome {
    this.budget?.count(node, outcome);
    if (outcome !== 'fresh' && outcome !== 'ran' && outcome !== 'restored') return outcome;
    const config = this.pipeline.config.nodes[node]!;
    const entry = this.state.get(node);
    const pending = pendingReview(config, entry);
    if (pending === undefined) return outcome;
    if (this.options.approve) {
      this.state.record(node, { ...entry!, approved: pending, approvedOutputs: { ...entry!.outputs } });
      this.emit({ type: 'approved', node, outputs: config.outputs });
      return outcome;
    }
    this.emit({ type: 'review', node, outputs: config.outputs });
    this.gatedAfter.set(node, outcome);
    return 'awaiting-review';
  }

  notAttempted(node: string, why: NotAttempted): void {
    this.emit({ type: 'skipped', node, because: notAttemptedBecause(why) });
  }
}

/** Whether running the node calls a model or an agent (spec, plan, execute: every kind with a provider). */
function callsProvider(config: NodeConfig): boolean {
  return 'provider' in config;
}

function notAttemptedBecause(why: NotAttempted): SkipReason {
  if (why.reason !== 'dependency') return why;
  if (why.outcome === 'failed') return { reason: 'dependency-failed', node: why.node };
  if (why.outcome === 'awaiting-review') return { reason: 'awaiting-review', node: why.node };
  return { reason: 'not-built', node: why.node };
}
