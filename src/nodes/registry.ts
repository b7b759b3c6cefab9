import type { NodeConfig, NodeKind } from '../config/types.js';
import type { NodeKindHandler } from './kind.js';

/**
 * Each kind's code is imported only when the pipeline being built has a node
 * of that kind: a pipeline of `run` nodes never loads the context, prompt
 * or execute machinery (start-up is part of every no-op build).
 */
const loaders: Record<NodeKind, () => Promise<NodeKindHandler<never>>> = {
  run: async () => (await import('./run.js')).runKind,
  spec: async () => (await import('./prompt.js')).promptKind,
  plan: async () => (await import('./prompt.js')).promptKind,
  context: async () => (await import('./context/context-kind.js')).contextKind,
  execute: async () => (await import('./execute/execute-kind.js')).executeKind,
};

const loaded = new Map<NodeKind, NodeKindHandler>();

/** Loads the handlers of the given kinds; call before `handlerFor`. */
export async function loadHandlers(kinds: Iterable<NodeKind>): Promise<void> {
  await Promise.all(
    [...new Set(kinds)].filter((kind) => !loaded.has(kind)).map(async (kind) => loaded.set(kind, (await loaders[kind]()) as NodeKindHandler)),
  );
}

export function handlerFor(config: NodeConfig): NodeKindHandler {
  const handler = loaded.get(config.kind);
  if (!handler) throw new Error(`the handler of kind "${config.kind}" was not loaded (loadHandlers first)`);
  return handler;
}
