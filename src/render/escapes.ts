/**
 * Whether the environment forbids escape sequences: `NO_COLOR` (no-color.org:
 * any non-empty value), `FORCE_COLOR=0` (the Node and chalk convention for
 * "no colour") and `TERM=dumb` (a terminal that cannot move its cursor: an
 * editor's shell, a log viewer). Any of them means plain lines, without
 * colour and without a live display that redraws itself.
 */
export function escapesForbidden(env: NodeJS.ProcessEnv): boolean {
  return (env.NO_COLOR !== undefined && env.NO_COLOR !== '') || env.FORCE_COLOR === '0' || env.FORCE_COLOR === 'false' || env.TERM === 'dumb';
}

/** Colour for a live display, or none: the same text either way. */
export type Paint = (style: keyof typeof STYLES, text: string) => string;

const STYLES = { green: 32, red: 31, yellow: 33, cyan: 36, dim: 2 } as const;

export function painter(colour: boolean): Paint {
  if (!colour) return (_style, text) => text;
  return (style, text) => `\x1b[${STYLES[style]}m${text}\x1b[0m`;
}
