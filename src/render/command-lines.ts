import { describeBudgetCrossed, describeOverBudget } from '../cost/describe-budget.js';
import type { BuildEvent } from '../scheduler/events.js';

/** What `spx build` says of its own around a build, rather than the scheduler during it. */
export type CommandEvent = Extract<
  BuildEvent,
  { type: 'lock-wait' | 'lock-busy' | 'review-hint' | 'cache-only-misses' | 'review-prompt-interrupted' | 'budget-refused' | 'budget-crossed' | WatchEventType }
>;

/** What `spx build --watch` says between its builds. */
export type WatchEventType = 'watch-build-start' | 'watch-build-end' | 'watch-pipeline-error';

/**
 * The line for a CommandEvent, for the task list and the plain lines alike,
 * and where it goes: what a person must act on goes to stderr, out of the
 * way of a pipe reading the build's lines.
 */
export function commandLine(event: CommandEvent): { stream: 'out' | 'err'; text: string } {
  switch (event.type) {
    case 'lock-wait':
      return { stream: 'err', text: `spx: waiting for the build running in ${event.holder}` };
    case 'lock-busy':
      return { stream: 'err', text: `spx: another build holds the project lock: ${event.holder}` };
    case 'review-hint':
      return {
        stream: 'err',
        text: `spx: review ${event.outputs.join(', ')}${event.sinceApproved ? ` (+${event.sinceApproved.added} −${event.sinceApproved.removed} lines since approved: spx diff ${event.node})` : ''}, then run: spx approve ${event.node}   (or build with --approve)`,
      };
    case 'cache-only-misses':
      return { stream: 'err', text: `spx: --cache-only: not in the cache, so these would need a model or an agent: ${event.nodes.join(', ')}` };
    case 'review-prompt-interrupted':
      // The prompt's line is still open: Ctrl-C ended no line.
      return { stream: 'out', text: '\nspx: interrupted at the review prompt; nothing was approved' };
    case 'watch-build-start':
      return { stream: 'out', text: `spx: watch build ${event.build}${event.changed.length > 0 ? ` (changed: ${listShort(event.changed)})` : event.trigger === 'key' ? ' (key press: model and agent nodes too)' : ''}` };
    case 'watch-build-end':
      return { stream: 'out', text: watchIdleLine(event) };
    case 'watch-pipeline-error':
      return { stream: 'err', text: `${event.message}\nspx: the pipeline is kept as it was; watching for a fix` };
    case 'budget-refused':
      return { stream: 'err', text: describeOverBudget(event) };
    case 'budget-crossed':
      return { stream: 'err', text: describeBudgetCrossed(event) };
  }
}

function watchIdleLine({ held, input }: Extract<BuildEvent, { type: 'watch-build-end' }>): string {
  const quit = input === 'keys' ? 'q to quit' : input === 'lines' ? 'a line q to quit' : 'Ctrl-C to stop';
  if (held.length === 0) return `spx: watching for changes (${quit})`;
  const run = input === 'keys' ? 'press m to run them' : input === 'lines' ? 'a line m runs them' : 'stop and run spx build, or watch with --watch=all';
  return `spx: not run on save, as they call a model or an agent: ${listShort(held)}; ${run} (${quit})`;
}

/** Up to five names, then how many more. */
function listShort(names: readonly string[]): string {
  return names.length <= 5 ? names.join(', ') : `${names.slice(0, 5).join(', ')} and ${names.length - 5} more`;
}

/** A cache warning outside a build (the remote is off before the build starts) is spx's own line too. */
export function cacheWarningOutsideBuild(message: string): { stream: 'err'; text: string } {
  return { stream: 'err', text: `spx: ${message}` };
}
