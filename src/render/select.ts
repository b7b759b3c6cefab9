import { isCi } from '../util/ci.js';
import { JsonRenderer } from './json.js';
import { PlainRenderer } from './plain.js';
import type { Renderer } from './renderer.js';
import { TASK_LIST_MAX_NODES, TaskListRenderer } from './task-list.js';

export interface RendererChoice {
  json: boolean;
  explain: boolean;
  verbose: boolean;
  nodeCount: number;
}

/**
 * `--json` for machines; a live task list for a person at a terminal; plain
 * lines for CI logs (CI=true) and pipes, and for graphs too large to show
 * one line per node.
 */
export async function selectRenderer(choice: RendererChoice): Promise<Renderer> {
  const out = process.stdout;
  if (choice.json) return new JsonRenderer(out);
  const options = { explain: choice.explain, verbose: choice.verbose, out, err: process.stderr };
  if (out.isTTY && !isCi(process.env) && choice.nodeCount <= TASK_LIST_MAX_NODES) return TaskListRenderer.create(options);
  return new PlainRenderer(options);
}
