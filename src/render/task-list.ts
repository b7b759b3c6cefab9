import { writeSync } from 'node:fs';
import type { BuildEvent } from '../scheduler/events.js';
import { summaryLine } from './plain.js';
import type { Renderer, RenderOptions } from './renderer.js';
import { describeFailure, describeSkipReason, describeStaleReason } from './describe.js';
import { cacheWarningOutsideBuild, commandLine } from './command-lines.js';
import { painter, type Paint } from './escapes.js';
import { LiveFrame, SHOW_CURSOR } from './live-frame.js';
import { NodeBoard } from './node-board.js';
import { describeEstimate, describeTotals } from '../cost/describe-estimate.js';

/** On a terminal with at most this many nodes, a live task list; past it, plain lines. */
export const TASK_LIST_MAX_NODES = 50;

/** How often a running node's spinner turns. */
const TICK_MS = 80;

export interface TaskListOptions extends RenderOptions {
  /** Colour as well as cursor movement (off with --output tasks and NO_COLOR). */
  colour: boolean;
  /** Nodes whose output is shown after the list when they succeed (`showOutput: true`; every node with -v). */
  showOutputOf: ReadonlySet<string>;
}

/**
 * The live task list shown on a terminal: one line per node, redrawn in
 * place. Only a node that holds a job slot spins; the others say what
 * they wait for (the nodes they need, or a free slot under -j).
 */
export class TaskListRenderer implements Renderer {
  private readonly frame: LiveFrame;
  private readonly paint: Paint;
  private board: NodeBoard | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly failures: string[] = [];
  /** Backups and warnings, printed under the list once it is done. */
  private readonly notes: string[] = [];
  /** Successful nodes' output asked for with -v or showOutput, printed under the list. */
  private readonly shownOutputs: { node: string; output: string }[] = [];
  private summary = '';

  constructor(private readonly options: TaskListOptions) {
    this.frame = new LiveFrame(options.out);
    this.paint = painter(options.colour);
  }

  handle(event: BuildEvent): void {
    const board = this.board;
    switch (event.type) {
      case 'build-start':
        this.start(event);
        break;
      case 'fresh':
        board?.settle(event.node, 'done', 'fresh');
        break;
      case 'queued':
        board?.queue(event.node);
        break;
      case 'working':
        board?.work(event.node, 'checking the cache');
        break;
      case 'start':
        board?.work(event.node, event.description, this.options.explain ? `because ${event.reasons.map(describeStaleReason).join('; ')}` : '');
        break;
      case 'progress':
        board?.detail(event.node, event.message);
        break;
      case 'output': {
        const lastLine = event.text.trimEnd().split('\n').pop();
        if (lastLine) board?.detail(event.node, lastLine);
        break;
      }
      case 'stale':
        board?.settle(
          event.node,
          'skipped',
          `would ${event.cached ? 'be restored from cache' : 'run'}${event.estimate ? ` (${describeEstimate(event.estimate)})` : ''}: ${event.reasons.map(describeStaleReason).join('; ')}`,
        );
        break;
      case 'success':
        board?.settle(event.node, 'done', `${event.seconds.toFixed(2)}s`);
        if (event.output.trim() !== '' && (this.options.verbose || this.options.showOutputOf.has(event.node))) this.shownOutputs.push({ node: event.node, output: event.output });
        break;
      case 'restored':
        board?.settle(event.node, 'done', `restored from cache, saved ${event.savedSeconds.toFixed(2)}s`);
        break;
      case 'backup':
        this.notes.push(`! ${event.node}: ${event.output} ${event.why === 'edited' ? 'was edited by hand' : 'was not written by spx'}; saved a copy to ${event.backup}`);
        break;
      case 'warning':
        this.notes.push(`! ${event.node}: ${event.message}`);
        break;
      case 'cache-warning':
        if (board) this.notes.push(`! ${event.message}`);
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
        board?.settle(event.node, 'failed', message);
        break;
      }
      case 'skipped':
        board?.settle(event.node, 'skipped', describeSkipReason(event.because));
        break;
      case 'interrupted':
        this.failures.push(`spx: interrupted (${event.signal}); finished nodes are recorded`);
        break;
      case 'build-end':
        this.summary = (event.summary.forecast ? `spx: ${describeTotals(event.summary.forecast)}\n` : '') + summaryLine(event);
        this.stop();
        break;
      // Outside a build: no list is drawing.
      case 'lock-wait':
      case 'lock-busy':
      case 'review-hint':
      case 'cache-only-misses':
      case 'review-prompt-interrupted':
      case 'watch-build-start':
      case 'watch-build-end':
      case 'watch-pipeline-error':
      case 'budget-refused':
      case 'budget-crossed':
        this.writeLine(commandLine(event));
        break;
    }
  }

  async flush(): Promise<void> {
    this.stop();
    const out = this.options.out;
    for (const note of this.notes) out.write(note + '\n');
    for (const { node, output } of this.shownOutputs) out.write(`── ${node} output ──\n${output.endsWith('\n') ? output : output + '\n'}`);
    for (const failure of this.failures) out.write(failure.endsWith('\n') ? failure : failure + '\n');
    if (this.summary) out.write(this.summary + '\n');
    this.notes.length = 0;
    this.shownOutputs.length = 0;
    this.failures.length = 0;
    this.summary = '';
  }

  abandon(): void {
    // An exit now would not wait for a write to the stream: the cursor
    // hidden while the list was drawing must be shown through the file descriptor.
    if (!this.frame.isDrawing) return;
    clearInterval(this.timer);
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
  private start(event: Extract<BuildEvent, { type: 'build-start' }>): void {
    this.board = new NodeBoard(event.nodes, event.dependencies, event.jobs);
    this.draw();
    this.timer = setInterval(() => this.draw(), TICK_MS);
    // A list that is drawing must not keep spx alive once the build is over.
    this.timer.unref();
  }

  /** The last drawing stays on the screen, every node with its outcome. */
  private stop(): void {
    if (!this.board) return;
    clearInterval(this.timer);
    this.draw();
    this.frame.close();
    this.board = undefined;
  }

  private draw(): void {
    const rows = (this.options.out as { rows?: number }).rows ?? 24;
    if (this.board) this.frame.draw(this.board.lines(this.paint, rows - 1));
  }
}
