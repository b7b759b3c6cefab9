import type { NodeKind } from './types.js';

/**
 * Which kinds spend model tokens, in one place for everything that asks
 * (`--cache-only`, the forecast and budget, the replayed no-op, the
 * warnings before a model call): a shell command and a context bundle cost
 * none, so CI can rebuild them from a fresh clone; spec, plan and execute
 * call a model or an agent. A list of the free kinds, not of the costly
 * ones, so that a kind added later counts as costly until someone decides
 * it is free. (Whether a node has a `provider` of its own is another
 * question: spec and plan do, execute runs an agent command.)
 */
const ZERO_TOKEN_KINDS: ReadonlySet<NodeKind> = new Set<NodeKind>(['run', 'context']);

export function spendsNoTokens(kind: NodeKind): boolean {
  return ZERO_TOKEN_KINDS.has(kind);
}

export function spendsTokens(kind: NodeKind): boolean {
  return !ZERO_TOKEN_KINDS.has(kind);
}
