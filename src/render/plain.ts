import type { StaleReason } from '../fingerprint/explain.js';
import type { BuildEvent } from '../scheduler/events.js';
import type { Renderer, RenderOptions } from './renderer.js';
import { formatMetrics } from './metrics.js';
import { describeFailure, describeSkipReason, describeStaleReason } from './describe.js';
import { cacheWarningOutsideBuild, commandLine } from './command-lines.js';
import { describeEstimate, describeTotals } from '../cost/describe-estimate.js';

/**
 * One line per thing that happened, for CI logs and pipes. A node's output
 * is printed whole when it finishes, so that parallel nodes never interleave.
 */
export class PlainRenderer implements Renderer {
  /** From a build's start until it is flushed; outside one, a cache warning is a line of spx's own. */
  private building = false;

  constructor(private readonly options: RenderOptions) {}

  handle(event: BuildEvent): void {
    // An event's lines go out in one write: a dry run of 20,000 nodes prints 40,000 lines.
    const lines: string[] = [];
    const write = (line: string): void => void lines.push(line);
    this.describe(event, write);
    if (lines.length > 0) this.options.out.write(lines.join('\n') + '\n');
  }

  private describe(event: BuildEvent, write: (line: string) => void): void {
    const because = (reasons: readonly StaleReason[]): void => {
      for (const reason of reasons) write(`    because ${describeStaleReason(reason)}`);
    };
    switch (event.type) {
      case 'build-start':
        this.building = true;
        break;
      case 'fresh':
        if (this.options.verbose) {
          const edited = event.handEdited.length > 0 ? ` (edited by hand: ${event.handEdited.join(', ')})` : '';
          write(`· ${event.node} is fresh${edited}`);
        }
        break;
      case 'restored': {
        writeOutput(this.options.out, event.output);
        const tokens = Number(event.metrics.totalTokens ?? 0);
        write(`↺ ${event.node} restored from cache (saved ${event.savedSeconds.toFixed(2)}s${tokens > 0 ? ` and ${tokens.toLocaleString('en-US')} model tokens` : ''})`);
        if (this.options.explain) because(event.reasons);
        break;
      }
      case 'backup':
        write(`! ${event.node}: ${event.output} ${event.why === 'edited' ? 'was edited by hand' : 'was not written by spx'}; saved a copy to ${event.backup}`);
        break;
      case 'warning':
        write(`! ${event.node}: ${event.message}`);
        break;
      case 'cache-warning':
        if (this.building) write(`! ${event.message}`);
        else this.writeLine(cacheWarningOutsideBuild(event.message));
        break;
      case 'start':
        write(`▶ ${event.node}: ${event.description}`);
        if (this.options.explain) because(event.reasons);
        break;
      case 'stale':
        write(`• ${event.node} would ${event.cached ? 'be restored from cache' : 'run'}${event.estimate ? `: ${describeEstimate(event.estimate)}` : ''}`);
        because(event.reasons);
        break;
      case 'success': {
        writeOutput(this.options.out, event.output);
        const measured = formatMetrics(event.metrics);
        write(`✓ ${event.node} (${event.seconds.toFixed(2)}s${measured ? `, ${measured}` : ''})`);
        break;
      }
      case 'failure':
        writeOutput(this.options.out, event.output);
        write(`✗ ${event.node}: ${describeFailure(event)}`);
        break;
      case 'skipped':
        write(`- ${event.node} skipped: ${describeSkipReason(event.because)}`);
        break;
      case 'review':
        write(`⏸ ${event.node}: ${event.outputs.join(', ')} awaits review; its dependents wait (spx approve ${event.node})`);
        break;
      case 'approved':
        write(`✓ ${event.node}: ${event.outputs.join(', ')} approved (--approve)`);
        break;
      case 'interrupted':
        write(`spx: interrupted (${event.signal}); finished nodes are recorded`);
        break;
      case 'build-end':
        if (event.summary.forecast) write(`spx: ${describeTotals(event.summary.forecast)}`);
        write(summaryLine(event));
        break;
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
      case 'output':
      case 'progress':
      case 'queued':
      case 'working':
        break;
    }
  }

  async flush(): Promise<void> {
    this.building = false;
  }

  abandon(): void {}

  private writeLine(line: { stream: 'out' | 'err'; text: string }): void {
    this.options[line.stream].write(line.text + '\n');
  }
}

function writeOutput(out: NodeJS.WritableStream, output: string): void {
  if (output === '') return;
  out.write(output.endsWith('\n') ? output : output + '\n');
}

export function summaryLine(event: Extract<BuildEvent, { type: 'build-end' }>): string {
  const { ran, restored, fresh, stale, failed, skipped, awaitingReview, tokens } = event.summary;
  const parts = [`${ran.length} ran`];
  if (restored.length > 0) parts.push(`${restored.length} restored from cache`);
  parts.push(`${fresh.length} fresh`);
  if (stale.length > 0) parts.push(`${stale.length} would run`);
  if (failed.length > 0) parts.push(`${failed.length} failed`);
  if (skipped.length > 0) parts.push(`${skipped.length} skipped`);
  if (awaitingReview.length > 0) parts.push(`${awaitingReview.length} awaiting review`);
  if (tokens.spent > 0) parts.push(`${tokens.spent.toLocaleString('en-US')} tokens spent`);
  if (tokens.saved > 0) parts.push(`${tokens.saved.toLocaleString('en-US')} tokens saved by the cache`);
  return `spx: ${parts.join(', ')} (${event.seconds.toFixed(2)}s)`;
}
