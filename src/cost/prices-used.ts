import type { ExecuteNodeConfig, LoadedPipeline, Price, PromptNodeConfig } from '../config/types.js';
import { describePrice, priceOf } from './price.js';
import { TOKEN_ENCODING } from './token-count.js';

/** One provider a forecast priced with, for `spx status --cost`. */
export interface PriceUsed {
  provider: string;
  model?: string;
  /** Absent: no price in spx.yaml, tokens only. */
  price?: Price;
  /** Where the price comes from: always spx.yaml (spx ships no price table). */
  source?: 'spx.yaml';
}

/**
 * The prices the forecast of these nodes used, one per provider, and the
 * lines that say so: which price, from where, and which tokenizer counted.
 */
export function pricesUsed(pipeline: LoadedPipeline, nodes: readonly string[]): { providers: PriceUsed[]; tokenizer: string; lines: string[] } {
  const byName = new Map<string, PriceUsed>();
  for (const node of nodes) {
    const config = pipeline.config.nodes[node];
    if (!config || (config.kind !== 'spec' && config.kind !== 'plan' && config.kind !== 'execute')) continue;
    const provider = (config as PromptNodeConfig | ExecuteNodeConfig).provider;
    if (byName.has(provider.name)) continue;
    const price = priceOf(provider);
    const model = 'model' in provider ? provider.model : undefined;
    byName.set(provider.name, { provider: provider.name, ...(model ? { model } : {}), ...(price ? { price, source: 'spx.yaml' as const } : {}) });
  }
  const providers = [...byName.values()];
  const tokenizer = `${TOKEN_ENCODING} (gpt-tokenizer, offline)`;
  const lines = [
    `prompt tokens counted with ${tokenizer}`,
    ...providers.map((used) => `price of ${used.provider}${used.model ? ` (${used.model})` : ''}: ${describePrice(used.price)}`),
  ];
  return { providers, tokenizer, lines };
}
