import type { Budget, ResolvedProvider } from '../config/types.js';
import { useOfMetrics } from './history.js';
import { costOf, priceOf } from './price.js';

/** What model and agent calls used, as they reported it. */
export interface Spend {
  tokens: number;
  /** From the providers' prices or the agents' own accounts; absent when no call had either. */
  costUsd?: number;
}

/** One call's tokens and cost, from the metrics its node recorded; undefined when it reported no usage. */
export function callSpend(metrics: Readonly<Record<string, number | string>>, provider: ResolvedProvider): { inputTokens: number; outputTokens: number; costUsd?: number } | undefined {
  const use = useOfMetrics(metrics);
  if (!use) return undefined;
  const cachedInputTokens = typeof metrics.cachedInputTokens === 'number' ? metrics.cachedInputTokens : 0;
  // An agent's own account of its cost (Claude Code's) is what was billed; else tokens times the price.
  const price = priceOf(provider);
  const costUsd = use.costUsd ?? (price ? costOf(price, { ...use, cachedInputTokens }) : undefined);
  return { inputTokens: use.inputTokens, outputTokens: use.outputTokens, ...(costUsd === undefined ? {} : { costUsd }) };
}

/** Adds one call to a running total. */
export function addSpend(total: Spend, call: { inputTokens: number; outputTokens: number; costUsd?: number }): void {
  total.tokens += call.inputTokens + call.outputTokens;
  if (call.costUsd !== undefined) total.costUsd = (total.costUsd ?? 0) + call.costUsd;
}

/** Whether this much exceeds the budget (reaching it exactly does not). */
export function exceeds(budget: Budget, spend: Spend): boolean {
  return (budget.maxTokens !== undefined && spend.tokens > budget.maxTokens) || (budget.maxCostUsd !== undefined && (spend.costUsd ?? 0) > budget.maxCostUsd);
}
