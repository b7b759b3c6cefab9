import type { Price, ResolvedProvider } from '../config/types.js';

/** Tokens of one call, or of a forecast of one. */
export interface TokenUse {
  inputTokens: number;
  outputTokens: number;
  /** Of the input tokens, those the provider served from its own context cache. */
  cachedInputTokens?: number;
}

/** The provider's price from spx.yaml; spx ships none (prices change, and a stale one would mislead). */
export function priceOf(provider: ResolvedProvider): Price | undefined {
  return provider.type === 'echo' ? undefined : provider.price;
}

/** USD for these tokens at this price (per million tokens). */
export function costOf(price: Price, use: TokenUse): number {
  const cached = Math.min(use.cachedInputTokens ?? 0, use.inputTokens);
  const perMillion = (use.inputTokens - cached) * price.input + cached * (price.cachedInput ?? price.input) + use.outputTokens * price.output;
  return perMillion / 1_000_000;
}

/** A price in a few words, for `spx status --cost`: `$0.30 in / $2.50 out per million tokens`. */
export function describePrice(price: Price | undefined): string {
  if (!price) return 'no price set (tokens only)';
  const cached = price.cachedInput === undefined ? '' : ` / $${price.cachedInput} cached in`;
  return `$${price.input} in / $${price.output} out${cached} per million tokens (spx.yaml)`;
}
