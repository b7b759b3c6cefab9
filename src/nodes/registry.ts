import type { NodeConfig } from '../config/types.js';
import type { NodeKindHandler } from './kind.js';
import { runKind } from './run.js';
import { promptKind } from './prompt.js';
import { contextKind } from './context/context-kind.js';
import { executeKind } from './execute/execute-kind.js';

const handlers: Record<NodeConfig['kind'], NodeKindHandler<never>> = {
  run: runKind,
  spec: promptKind,
  plan: promptKind,
  context: contextKind,
  execute: executeKind,
};

export function handlerFor(config: NodeConfig): NodeKindHandler {
  return handlers[config.kind] as NodeKindHandler;
}
