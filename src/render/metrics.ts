/**
 * What a node measured, in a few words for a status or build line
 * (`12,345 tokens, 42 files`); empty when it measured nothing worth a glance.
 */
export function formatMetrics(metrics: Readonly<Record<string, number | string>> | undefined): string {
  if (!metrics) return '';
  const parts: string[] = [];
  for (const [name, unit] of SHOWN) {
    const value = metrics[name];
    if (typeof value === 'number') parts.push(`${value.toLocaleString('en-US')} ${unit}${value === 1 ? '' : 's'}`);
  }
  const { totalTokens, promptTokens, outputTokens, costUsd, model } = metrics;
  if (typeof totalTokens === 'number') {
    const split = typeof promptTokens === 'number' && typeof outputTokens === 'number' ? ` (${promptTokens.toLocaleString('en-US')} in, ${outputTokens.toLocaleString('en-US')} out)` : '';
    parts.push(`${totalTokens.toLocaleString('en-US')} model tokens${split}`);
  }
  if (typeof costUsd === 'number') parts.push(`$${costUsd.toFixed(4)}`);
  if (typeof model === 'string' && parts.length > 0) parts.push(model);
  return parts.join(', ');
}

/** Metric name → its unit, in the order shown. */
const SHOWN: readonly [string, string][] = [
  ['tokens', 'token'],
  ['files', 'file'],
];
