import type { Budget } from '../config/types.js';
import { describeEstimate, describeTotals, formatUsd } from './describe-estimate.js';
import type { ForecastTotals, NodeEstimate } from './estimate.js';
import type { Spend } from './spend.js';

/** A budget in a few words: `10,000 tokens and $0.50`. */
export function describeBudget(budget: Budget): string {
  const parts: string[] = [];
  if (budget.maxTokens !== undefined) parts.push(`${budget.maxTokens.toLocaleString('en-US')} tokens`);
  if (budget.maxCostUsd !== undefined) parts.push(formatUsd(budget.maxCostUsd));
  return parts.join(' and ');
}

/** Why a build was refused before it sent anything: the budget, then each node's estimate. */
export function describeOverBudget(refusal: { budget: Budget; forecast: ForecastTotals; nodes: readonly { node: string; estimate: NodeEstimate }[] }): string {
  const width = Math.max(...refusal.nodes.map(({ node }) => node.length));
  return [
    `spx: over budget: the ${describeTotals(refusal.forecast)}; the budget is ${describeBudget(refusal.budget)}`,
    ...refusal.nodes.map(({ node, estimate }) => `  ${node.padEnd(width)}  ${describeEstimate(estimate)}`),
    'spx: nothing was built and no model was called; raise the budget (--max-tokens, --max-cost, budget: in spx.yaml) or build fewer nodes (spx build NODE)',
  ].join('\n');
}

/** Why a build stopped starting model nodes: what it spent, against what budget. */
export function describeBudgetCrossed(crossed: { budget: Budget; spent: Spend; notStarted: readonly string[] }): string {
  const spent = `${crossed.spent.tokens.toLocaleString('en-US')} tokens${crossed.spent.costUsd === undefined ? '' : `, ${formatUsd(crossed.spent.costUsd)}`}`;
  const notStarted = crossed.notStarted.length > 0 ? `; not started: ${crossed.notStarted.join(', ')}` : '';
  return `spx: over budget: this build's model calls used ${spent}, over the budget of ${describeBudget(crossed.budget)}${notStarted}`;
}
