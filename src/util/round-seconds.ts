/**
 * Seconds to the millisecond: what a clock reading is worth. Durations in
 * events, --json and the cache are rounded at their source, so that nobody
 * reads `0.9758453610000001`.
 */
export function roundSeconds(seconds: number): number {
  return Math.round(seconds * 1000) / 1000;
}
