import type { LoadedPipeline, NodeConfig } from '../config/types.js';
import { pendingReview } from '../state/approval.js';
import type { BuildState } from '../state/build-state.js';
import { withHandEdits } from '../state/hand-edits.js';
import type { BuildOptions, BuildSeams } from './build-options.js';
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
  private readonly evaluation: EvaluationContext;

  constructor(
    private readonly pipeline: LoadedPipeline,
    private readonly state: BuildState,
    private readonly options: BuildOptions,
    private readonly seams: BuildSeams,
    private readonly emit: EventSink,
  ) {
    // The build's signal stops what a kind runs to select its inputs (a fromCommand).
    this.evaluation = { pipeline, state, files: seams.files, env: options.env, stateDir: options.stateDir, signal: options.signal };
  }

  async decide(node: string, outcomes: ReadonlyMap<string, Outcome>): Promise<Outcome | Job> {
    const { options, state, emit } = this;
    const config = this.pipeline.config.nodes[node]!;
    // In a dry run a stale upstream has not produced its new output, so
    // whether it changes this node cannot be known yet: say so, beside the
    // node's own reasons (judged against the upstream's recorded output).
    const staleNeeds = config.needs.filter((dependency) => outcomes.get(dependency) === 'stale');
    if (staleNeeds.length > 0) {
      const own = (await evaluateNode(node, this.evaluation, false)).reasons;
      emit({ type: 'stale', node, reasons: [...own, ...staleNeeds.map((d) => ({ reason: 'upstream-will-run', node: d }) as const)], cached: false });
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
    if (options.dryRun || (options.holdModelNodes && callsProvider(config))) {
      const cached = options.cache?.lookup(result.fingerprint) !== undefined;
      emit({ type: 'stale', node, reasons: result.reasons, cached });
      return 'stale';
    }
    if (!forced) options.cache?.prefetch?.(result.fingerprint, config.outputs);
    emit({ type: 'queued', node });
    return () => {
      emit({ type: 'working', node });
      return this.seams.regenerate(node, result, emit);
    };
  }

  /** A node that is up to date but awaits review holds its dependents back; --approve approves it. */
  settle(node: string, outcome: Outcome): Outcome {
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
