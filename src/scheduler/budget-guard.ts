import type { LoadedPipeline } from '../config/types.js';
import { spendsTokens } from '../config/token-kinds.js';
import { addSpend, callSpend, exceeds } from '../cost/spend.js';
import type { BuildState } from '../state/build-state.js';
import type { BuildOptions } from './build-options.js';
import type { EventSink } from './events.js';
import type { Job, Outcome } from './walk.js';

/**
 * A budget during the build: the spend of each model call is counted as it
 * returns, and once it crosses the budget no further model node starts
 * (those running finish). A restore from the cache calls nothing and is
 * always let through.
 */
export class BudgetGuard {
  /** The model nodes kept from starting. */
  readonly notStarted: string[] = [];
  private crossed = false;

  constructor(
    private readonly budget: NonNullable<BuildOptions['budget']>,
    private readonly pipeline: LoadedPipeline,
    private readonly state: BuildState,
    private readonly emit: EventSink,
  ) {
    this.crossed = exceeds(budget.limits, budget.spent);
  }

  /** The job, checked when it starts (it may wait for a `-j` slot while other calls spend). */
  guard(node: string, cached: () => boolean, job: Job): Job {
    if (!spendsTokens(this.pipeline.config.nodes[node]!.kind)) return job;
    return async () => {
      if (!this.crossed || cached()) return job();
      this.notStarted.push(node);
      this.emit({ type: 'skipped', node, because: { reason: 'over-budget' } });
      return 'skipped';
    };
  }

  /** Counts a finished node's calls, from what it recorded. */
  count(node: string, outcome: Outcome): void {
    const config = this.pipeline.config.nodes[node]!;
    if (outcome !== 'ran' || !spendsTokens(config.kind) || !('provider' in config)) return;
    const call = callSpend(this.state.get(node)?.metrics ?? {}, config.provider);
    if (call) addSpend(this.budget.spent, call);
    this.crossed = exceeds(this.budget.limits, this.budget.spent);
  }

  /** What the summary says when the spend crossed the budget. */
  overBudget(): { budget: NonNullable<BuildOptions['budget']>['limits']; spent: NonNullable<BuildOptions['budget']>['spent']; notStarted: string[] } | undefined {
    return this.crossed ? { budget: this.budget.limits, spent: { ...this.budget.spent }, notStarted: this.notStarted } : undefined;
  }
}
