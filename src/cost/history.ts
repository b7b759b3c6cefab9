import type { LockEntry } from '../state/lockfile.js';
import { ledgerNodeId, type LedgerLine } from './ledger.js';

/** How many of a node's last calls its forecast averages. */
const RECENT_RUNS = 3;

/** What a node's recorded calls used, on average. */
export interface RecordedUse {
  inputTokens: number;
  outputTokens: number;
  /** What the agent or the price said the calls cost, when known. */
  costUsd?: number;
}

/**
 * A node's last calls: its last few uncached calls in the ledger (this
 * clone), else what spx.lock recorded of its last run (committed, so a
 * fresh clone has it too); undefined when neither knows.
 */
export function recordedUse(node: string, ledger: readonly LedgerLine[], entry: LockEntry | undefined): RecordedUse | undefined {
  const calls = ledger.filter((line) => !line.cached && ledgerNodeId(line) === node).slice(-RECENT_RUNS);
  if (calls.length > 0) {
    const mean = (values: number[]): number => Math.round(values.reduce((a, b) => a + b, 0) / values.length);
    const costs = calls.map((line) => line.costUsd).filter((cost): cost is number => cost !== undefined);
    return {
      inputTokens: mean(calls.map((line) => line.inputTokens)),
      outputTokens: mean(calls.map((line) => line.outputTokens)),
      ...(costs.length === calls.length ? { costUsd: costs.reduce((a, b) => a + b, 0) / costs.length } : {}),
    };
  }
  return entry?.metrics ? useOfMetrics(entry.metrics) : undefined;
}

/**
 * Tokens as a run's metrics hold them: a model's usage (promptTokens,
 * outputTokens), or an agent's total alone, counted as input (Claude Code
 * reports no split).
 */
export function useOfMetrics(metrics: Readonly<Record<string, number | string>>): RecordedUse | undefined {
  const number = (name: string): number | undefined => (typeof metrics[name] === 'number' ? metrics[name] : undefined);
  const input = number('promptTokens');
  const output = number('outputTokens');
  const total = number('totalTokens');
  const cost = number('costUsd');
  if (input === undefined && output === undefined && total === undefined) return undefined;
  const outputTokens = output ?? 0;
  const inputTokens = input ?? Math.max(0, (total ?? 0) - outputTokens);
  return { inputTokens, outputTokens, ...(cost === undefined ? {} : { costUsd: cost }) };
}
