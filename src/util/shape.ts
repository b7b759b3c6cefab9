/**
 * Shape checks for what spx reads back from its own files (spx.lock,
 * `.spx/*.json`). Those files are data, not code paths: a damaged one must
 * be rebuilt or reported, never reach a `.length` of undefined. The checks
 * are plain `typeof` tests, so that checking a 10,000-entry file costs well
 * under a millisecond on the no-op path.
 */

/** A JSON object: not null, not an array. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An object whose every value is a string (a path → hash map of spx.lock). */
export function isStringRecord(value: unknown): value is Record<string, string> {
  if (!isRecord(value)) return false;
  for (const key in value) if (typeof value[key] !== 'string') return false;
  return true;
}

export function isStringArray(value: unknown): value is string[] {
  if (!Array.isArray(value)) return false;
  for (const item of value) if (typeof item !== 'string') return false;
  return true;
}

/** A key for a message: `nodes.a`, or `nodes["a b"]` when it is not a plain word. */
export function keyPath(parent: string, key: string): string {
  return /^[A-Za-z_][\w-]*$/.test(key) ? `${parent}.${key}` : `${parent}[${JSON.stringify(key)}]`;
}
