import { isCi } from '../util/ci.js';
import { escapesForbidden } from './escapes.js';
import { JsonRenderer } from './json.js';
import { PlainRenderer } from './plain.js';
import type { Renderer } from './renderer.js';
import { TASK_LIST_MAX_NODES, TaskListRenderer } from './task-list.js';

/** `--output`: who reads the build's output. */
export const OUTPUT_MODES = ['auto', 'tasks', 'plain', 'json'] as const;
export type OutputMode = (typeof OUTPUT_MODES)[number];

export interface RendererChoice {
  output: OutputMode;
  explain: boolean;
  verbose: boolean;
  nodeCount: number;
  /** Nodes whose output the task list shows when they succeed (`showOutput: true` in spx.yaml). */
  showOutputOf: ReadonlySet<string>;
}

/**
 * `json` for machines; `tasks`, a live list redrawn in place, for a person
 * at a terminal; `plain` lines for CI logs, pipes and dumb terminals.
 * `auto` picks the list only where it can be drawn and is wanted: stdout
 * a terminal, not CI, escapes allowed (NO_COLOR, FORCE_COLOR=0 and
 * TERM=dumb forbid them), and a graph small enough to fit the screen.
 */
export function selectRenderer(choice: RendererChoice, env: NodeJS.ProcessEnv = process.env): Renderer {
  const out = process.stdout;
  if (choice.output === 'json') return new JsonRenderer(out);
  const options = { explain: choice.explain, verbose: choice.verbose, out, err: process.stderr };
  const taskList = (): Renderer => new TaskListRenderer({ ...options, colour: !escapesForbidden(env), showOutputOf: choice.showOutputOf });
  if (choice.output === 'tasks') return taskList();
  if (choice.output === 'plain') return new PlainRenderer(options);
  // The list must fit: a terminal cannot move its cursor above its top row.
  const fits = choice.nodeCount <= Math.min(TASK_LIST_MAX_NODES, (out.rows ?? 24) - 2);
  if (out.isTTY && !isCi(env) && !escapesForbidden(env) && fits) return taskList();
  return new PlainRenderer(options);
}
