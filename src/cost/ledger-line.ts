import type { ResolvedProvider } from '../config/types.js';
import { ledgerNodeFields, type LedgerLine } from './ledger.js';
import { callSpend } from './spend.js';

/**
 * The line for a model node that ran (`cached: false`) or was restored
 * (`cached: true`, valued at what the original call cost), from the
 * metrics it recorded: the provider's reported usage, priced.
 */
export function ledgerLineFor(id: string, provider: ResolvedProvider, metrics: Readonly<Record<string, number | string>>, cached: boolean, time: Date): LedgerLine {
  const call = callSpend(metrics, provider) ?? { inputTokens: 0, outputTokens: 0 };
  const model = typeof metrics.model === 'string' ? metrics.model : 'model' in provider ? provider.model : undefined;
  return {
    time: time.toISOString(),
    ...ledgerNodeFields(id),
    provider: provider.name,
    type: provider.type,
    ...(model ? { model } : {}),
    inputTokens: call.inputTokens,
    outputTokens: call.outputTokens,
    ...(call.costUsd === undefined ? {} : { costUsd: call.costUsd }),
    cached,
  };
}
