import type { NodeKind } from '../config/types.js';

/**
 * The kinds `--cache-only` lets run: a shell command and a context bundle
 * cost no model token, so CI can rebuild them from a fresh clone; spec,
 * plan and execute call a model or an agent and must come from the cache.
 * A list of the free kinds, not of the costly ones, so that a kind added
 * later is refused until someone decides it is free.
 */
const ZERO_TOKEN_KINDS: ReadonlySet<NodeKind> = new Set<NodeKind>(['run', 'context']);

export function spendsNoTokens(kind: NodeKind): boolean {
  return ZERO_TOKEN_KINDS.has(kind);
}
