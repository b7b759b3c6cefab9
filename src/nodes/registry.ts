import type { NodeConfig } from '../config/types.js';
import type { NodeKindHandler } from './kind.js';
import { runKind } from './run.js';

const handlers: Record<NodeConfig['kind'], NodeKindHandler<never>> = {
  run: runKind,
};

export function handlerFor(config: NodeConfig): NodeKindHandler {
  return handlers[config.kind] as NodeKindHandler;
}
