/**
 * What a stale model node is expected to use when it runs. Tokens are the
 * prompt as it would be sent (counted offline, or by the provider with
 * --exact) and the answer as long as the node's recent answers.
 */
export interface Estimate {
  inputTokens: number;
  outputTokens: number;
  /** Absent when the provider has no price. */
  costUsd?: number;
  /** counted: the assembled prompt, offline; provider: the provider's own count (--exact); history: the node's recorded runs (an agent). */
  inputFrom: 'counted' | 'provider' | 'history';
  /** history: the node's last answers; maxOutputTokens: the provider's cap; default: DEFAULT_OUTPUT_TOKENS. */
  outputFrom: 'history' | 'maxOutputTokens' | 'default';
  /** An input will be regenerated first: counted from its current version (or left out, when it has none yet). */
  approximate?: true;
}

/** A model node whose use cannot be told (an agent that never ran here): said plainly, never guessed. */
export interface UnknownEstimate {
  unknown: string;
}

export type NodeEstimate = Estimate | UnknownEstimate;

/** The forecast of a whole build: the sum of its nodes' estimates. */
export interface ForecastTotals {
  inputTokens: number;
  outputTokens: number;
  /** The sum over the nodes that have a price; absent when none has. */
  costUsd?: number;
  /** Nodes whose use is unknown (not in the sums). */
  unknown: string[];
  /** Nodes counted in tokens but not in dollars: their provider has no price. */
  unpriced: string[];
}

export function isKnown(estimate: NodeEstimate): estimate is Estimate {
  return !('unknown' in estimate);
}

export function addUp(estimates: ReadonlyMap<string, NodeEstimate>): ForecastTotals {
  const totals: ForecastTotals = { inputTokens: 0, outputTokens: 0, unknown: [], unpriced: [] };
  for (const [node, estimate] of estimates) {
    if (!isKnown(estimate)) {
      totals.unknown.push(node);
      continue;
    }
    totals.inputTokens += estimate.inputTokens;
    totals.outputTokens += estimate.outputTokens;
    if (estimate.costUsd === undefined) totals.unpriced.push(node);
    else totals.costUsd = (totals.costUsd ?? 0) + estimate.costUsd;
  }
  return totals;
}
