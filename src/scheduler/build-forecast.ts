import { addUp, type ForecastTotals, type NodeEstimate } from '../cost/estimate.js';
import { spendsTokens } from '../config/token-kinds.js';
import { Forecaster, type ForecastOptions } from '../cost/forecast.js';
import type { LoadedPipeline } from '../config/types.js';
import type { BuildState } from '../state/build-state.js';
import type { Evaluation } from './evaluate.js';
import { dependencyOutputs } from './node-runner.js';
import type { Outcome } from './walk.js';

/**
 * A dry run's forecast: each stale model node's estimate, from the prompt it
 * would send (src/cost/forecast.ts), and their sum for `build-end`.
 */
export class BuildForecast {
  readonly estimates = new Map<string, NodeEstimate>();
  private readonly forecaster: Forecaster;

  constructor(
    private readonly pipeline: LoadedPipeline,
    state: BuildState,
    stateDir: string,
    options: ForecastOptions,
  ) {
    this.forecaster = new Forecaster(pipeline, stateDir, (node) => state.get(node), options);
  }

  /** The estimate of a node that would run; undefined for one that calls no model. */
  async estimate(node: string, evaluation: Evaluation, outcomes: ReadonlyMap<string, Outcome>): Promise<NodeEstimate | undefined> {
    const config = this.pipeline.config.nodes[node]!;
    if (!spendsTokens(config.kind)) return undefined;
    const upstreamWillRun = [...config.needs, ...config.uses].some((dependency) => outcomes.get(dependency) === 'stale');
    let estimate: NodeEstimate | undefined;
    try {
      estimate = await this.forecaster.estimate(node, { inputFiles: evaluation.inputFiles, dependencyOutputs: dependencyOutputs(node, this.pipeline), upstreamWillRun });
    } catch (error) {
      // --exact and a provider that cannot count: the forecast says so, the dry run goes on.
      estimate = { unknown: error instanceof Error ? error.message : String(error) };
    }
    if (estimate) this.estimates.set(node, estimate);
    return estimate;
  }

  /** The sum; what was counted is kept for the next forecast. */
  totals(): ForecastTotals {
    this.forecaster.save();
    return addUp(this.estimates);
  }
}
