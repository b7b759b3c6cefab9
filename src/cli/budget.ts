import type { Budget, LoadedPipeline } from '../config/types.js';
import type { NodeEstimate } from '../cost/estimate.js';
import { exceeds } from '../cost/spend.js';
import { build } from '../scheduler/builder.js';
import type { BuildOptions } from '../scheduler/build-options.js';
import type { BuildEvent } from '../scheduler/events.js';
import { BuildState } from '../state/build-state.js';
import type { StatCache } from '../state/stat-cache.js';
import { UserError } from '../util/errors.js';

/** spx.yaml's `budget:`, each limit replaced by its flag when given; undefined when there is none. */
export function resolveBudget(configured: Budget | undefined, flags: { maxTokens: string | undefined; maxCost: string | undefined }): Budget | undefined {
  const budget: Budget = { ...configured };
  if (flags.maxTokens !== undefined) budget.maxTokens = parseLimit('--max-tokens', flags.maxTokens, 'a whole number of tokens', Number.isInteger);
  if (flags.maxCost !== undefined) budget.maxCostUsd = parseLimit('--max-cost', flags.maxCost, 'an amount of US dollars (e.g. 0.50)', Number.isFinite);
  return budget.maxTokens === undefined && budget.maxCostUsd === undefined ? undefined : budget;
}

function parseLimit(flag: string, text: string, what: string, valid: (n: number) => boolean): number {
  const value = Number(text.replace(/^\$/, ''));
  if (text.trim() === '' || !valid(value) || value < 0) throw new UserError(`${flag} expects ${what}, got "${text}"`);
  return value;
}

/**
 * The forecast of the build about to start, against its budget: the
 * refusal to show when it exceeds it, else undefined. A dry run of the same
 * build on a read-only copy of spx.lock, so that nothing is recorded and
 * no model is called. An estimate the forecast cannot make (an agent that
 * never ran) counts as nothing here; the budget is checked again as calls return.
 */
export async function refusalOverBudget(
  pipeline: LoadedPipeline,
  statCache: StatCache,
  options: BuildOptions,
  budget: Budget,
): Promise<Extract<BuildEvent, { type: 'budget-refused' }> | undefined> {
  const state = BuildState.open(pipeline.root, options.stateDir, { readOnly: true });
  const nodes: { node: string; estimate: NodeEstimate }[] = [];
  const summary = await build(pipeline, state, statCache, { ...options, dryRun: true, forecast: options.forecast ?? {} }, (event) => {
    if (event.type === 'stale' && event.estimate) nodes.push({ node: event.node, estimate: event.estimate });
  });
  const forecast = summary.forecast!;
  const spend = { tokens: forecast.inputTokens + forecast.outputTokens, ...(forecast.costUsd === undefined ? {} : { costUsd: forecast.costUsd }) };
  if (!exceeds(budget, spend)) return undefined;
  return { type: 'budget-refused', budget, forecast, nodes };
}
