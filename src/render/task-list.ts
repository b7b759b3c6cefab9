import { writeSync } from 'node:fs';
import type { Listr, ListrTaskWrapper } from 'listr2';
import type { BuildEvent } from '../scheduler/events.js';
import { summaryLine } from './plain.js';
import type { Renderer, RenderOptions } from './renderer.js';
import { describeFailure, describeSkipReason, describeStaleReason } from './describe.js';
import { cacheWarningOutsideBuild, commandLine } from './command-lines.js';
import { describeEstimate, describeTotals } from '../cost/describe-estimate.js';

type Settled =
  | { state: 'fresh' }
  | { state: 'ran'; seconds: number }
  | { state: 'restored'; savedSeconds: number }
  | { state: 'failed'; message: string }
  | { state: 'skipped'; why: string };

// listr2's wrapper type is generic over its renderers; this file only sets
// titles and output, which every renderer supports.
type Task = ListrTaskWrapper<unknown, any, any>;

/** What listr2 writes when it ends, to undo its hiding of the cursor. */
const SHOW_CURSOR = '\x1b[?25h';

/** On a terminal with at most this many nodes, a live task list; past it, plain lines. */
export const TASK_LIST_MAX_NODES = 50;

/**
 * The live listr2 task list shown on a terminal: one line per node with a
 * spinner while it runs. listr2 is imported only here, when a terminal is
 * there to show it.
 */
export class TaskListRenderer implements Renderer {
  private readonly settle = new Map<string, (settled: Settled) => void>();
  private readonly tasks = new Map<string, Task>();
  private readonly failures: string[] = [];
  /** Backups and warnings, printed under the list once it is done. */
  private readonly notes: string[] = [];
  private finished: Promise<unknown> | undefined;
  private summary = '';
  /** From a build's start until it is flushed; outside one, a cache warning is a line of spx's own. */
  private building = false;

  private constructor(
    private readonly ListrClass: typeof Listr,
    private readonly options: RenderOptions,
  ) {}

  static async create(options: RenderOptions): Promise<TaskListRenderer> {
    const { Listr } = await import('listr2');
    return new TaskListRenderer(Listr, options);
  }

  handle(event: BuildEvent): void {
    switch (event.type) {
      case 'build-start':
        this.start(event.nodes);
        break;
      case 'fresh':
        this.settle.get(event.node)?.({ state: 'fresh' });
        break;
      case 'start': {
        const task = this.tasks.get(event.node);
        if (task) {
          task.title = `${event.node}: ${event.description}`;
          if (this.options.explain) task.output = `because ${event.reasons.map(describeStaleReason).join('; ')}`;
        }
        break;
      }
      case 'progress': {
        const task = this.tasks.get(event.node);
        if (task) task.output = event.message;
        break;
      }
      case 'output': {
        const lastLine = event.text.trimEnd().split('\n').pop();
        const task = this.tasks.get(event.node);
        if (task && lastLine) task.output = lastLine;
        break;
      }
      case 'stale':
        this.settle.get(event.node)?.({
          state: 'skipped',
          why: `would ${event.cached ? 'be restored from cache' : 'run'}${event.estimate ? ` (${describeEstimate(event.estimate)})` : ''}: ${event.reasons.map(describeStaleReason).join('; ')}`,
        });
        break;
      case 'success':
        this.settle.get(event.node)?.({ state: 'ran', seconds: event.seconds });
        break;
      case 'restored':
        this.settle.get(event.node)?.({ state: 'restored', savedSeconds: event.savedSeconds });
        break;
      case 'backup':
        this.notes.push(`! ${event.node}: ${event.output} ${event.why === 'edited' ? 'was edited by hand' : 'was not written by spx'}; saved a copy to ${event.backup}`);
        break;
      case 'warning':
        this.notes.push(`! ${event.node}: ${event.message}`);
        break;
      case 'cache-warning':
        if (this.building) this.notes.push(`! ${event.message}`);
        else this.writeLine(cacheWarningOutsideBuild(event.message));
        break;
      case 'review':
        this.notes.push(`⏸ ${event.node}: ${event.outputs.join(', ')} awaits review; its dependents wait (spx approve ${event.node})`);
        break;
      case 'approved':
        this.notes.push(`✓ ${event.node}: ${event.outputs.join(', ')} approved (--approve)`);
        break;
      case 'failure': {
        const message = describeFailure(event);
        this.failures.push(`✗ ${event.node}: ${message}\n${event.output}`);
        this.settle.get(event.node)?.({ state: 'failed', message });
        break;
      }
      case 'skipped':
        this.settle.get(event.node)?.({ state: 'skipped', why: describeSkipReason(event.because) });
        break;
      case 'interrupted':
        this.failures.push(`spx: interrupted (${event.signal}); finished nodes are recorded`);
        break;
      case 'build-end':
        this.summary = (event.summary.forecast ? `spx: ${describeTotals(event.summary.forecast)}\n` : '') + summaryLine(event);
        // No node's event comes after this one: a node still without an outcome
        // would keep its spinner, and `flush` would wait for it, forever.
        for (const settle of this.settle.values()) settle({ state: 'skipped', why: 'not built' });
        break;
      // Outside a build: no list is drawing.
      case 'lock-wait':
      case 'lock-busy':
      case 'review-hint':
      case 'cache-only-misses':
      case 'review-prompt-interrupted':
      case 'budget-refused':
      case 'budget-crossed':
        this.writeLine(commandLine(event));
        break;
    }
  }

  async flush(): Promise<void> {
    await this.finished?.catch(() => undefined);
    for (const note of this.notes) this.options.out.write(note + '\n');
    for (const failure of this.failures) this.options.out.write(failure.endsWith('\n') ? failure : failure + '\n');
    if (this.summary) this.options.out.write(this.summary + '\n');
    this.notes.length = 0;
    this.failures.length = 0;
    this.summary = '';
    this.building = false;
  }

  abandon(): void {
    // listr2 hid the cursor when it started drawing and shows it again only
    // when the list ends, which an exit now would not wait for. Until then
    // it holds back what others write to the stream, so this goes to the
    // file descriptor.
    if (this.finished === undefined) return;
    const { fd } = this.options.out as { fd?: unknown };
    try {
      if (typeof fd === 'number') writeSync(fd, SHOW_CURSOR);
    } catch {
      // The terminal is gone (SIGHUP): no cursor to show.
    }
  }

  private writeLine(line: { stream: 'out' | 'err'; text: string }): void {
    this.options[line.stream].write(line.text + '\n');
  }

  /** A new list for each build: the one after an approval at the prompt starts afresh. */
  private start(nodes: readonly string[]): void {
    this.building = true;
    this.settle.clear();
    this.tasks.clear();
    // Events for fresh nodes arrive before listr2 has started their tasks, so
    // each node's outcome is a promise made now and awaited by its task.
    const outcomes = new Map<string, Promise<Settled>>();
    for (const node of nodes) outcomes.set(node, new Promise((resolve) => this.settle.set(node, resolve)));
    const list = new this.ListrClass(
      nodes.map((node) => ({
        title: node,
        task: async (_context: unknown, task: Task): Promise<void> => {
          this.tasks.set(node, task);
          const settled = await outcomes.get(node)!;
          switch (settled.state) {
            case 'fresh':
              task.title = `${node} (fresh)`;
              return;
            case 'ran':
              task.title = `${node} (${settled.seconds.toFixed(2)}s)`;
              return;
            case 'restored':
              task.title = `${node} (restored from cache, saved ${settled.savedSeconds.toFixed(2)}s)`;
              return;
            case 'skipped':
              task.skip(`${node}: ${settled.why}`);
              return;
            case 'failed':
              throw new Error(`${node}: ${settled.message}`);
          }
        },
      })),
      {
        concurrent: true,
        exitOnError: false,
        registerSignalListeners: false,
        rendererOptions: { collapseErrors: false },
      },
    );
    this.finished = list.run();
  }
}
