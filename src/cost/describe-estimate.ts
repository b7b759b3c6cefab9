import { isKnown, type ForecastTotals, type NodeEstimate } from './estimate.js';

/**
 * A node's estimate in a few words, for the plain lines and `spx status`:
 * `~1,234 tokens in + 4,000 out by default, $0.0123`.
 */
export function describeEstimate(estimate: NodeEstimate): string {
  if (!isKnown(estimate)) return `tokens unknown: ${estimate.unknown}`;
  const about = estimate.approximate ? '~' : '';
  return `${about}${count(estimate.inputTokens)} tokens in + ${count(estimate.outputTokens)} out${OUTPUT_FROM[estimate.outputFrom]}${dollars(estimate.costUsd)}`;
}

/** The forecast of a build: `forecast: 5,000 tokens in + 8,000 out, $0.0400`, and what it leaves out. */
export function describeTotals(totals: ForecastTotals): string {
  const parts = [`forecast: ${count(totals.inputTokens)} tokens in + ${count(totals.outputTokens)} out${dollars(totals.costUsd)}`];
  if (totals.unpriced.length > 0) parts.push(`no price for ${totals.unpriced.join(', ')} (tokens only)`);
  if (totals.unknown.length > 0) parts.push(`unknown: ${totals.unknown.join(', ')}`);
  return parts.join('; ');
}

/** Dollars with enough digits to tell a cheap call from nothing. */
export function formatUsd(usd: number): string {
  return `$${usd.toFixed(usd !== 0 && usd < 1 ? 4 : 2)}`;
}

/** How the answer's length was chosen, when not from the node's own history. */
const OUTPUT_FROM: Record<string, string> = {
  history: '',
  maxOutputTokens: ' at most (maxOutputTokens)',
  default: ' by default',
};

function dollars(usd: number | undefined): string {
  return usd === undefined ? '' : `, ${formatUsd(usd)}`;
}

/** 1,234,567: by hand, as the first toLocaleString of a process loads the ICU data (~40 ms), for commas. */
function count(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}
