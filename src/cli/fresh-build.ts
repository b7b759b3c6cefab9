import { dirname, join } from 'node:path';
import { RedactingRenderer } from '../render/redacting-renderer.js';
import { selectRenderer } from '../render/select.js';
import type { BuildSummary } from '../scheduler/events.js';
import { BuildLock } from '../state/build-lock.js';
import { freshVerdict, type FreshVerdict } from '../state/fresh-snapshot.js';
import { roundSeconds } from '../util/round-seconds.js';
import { secretValues } from '../util/secrets.js';
import { parseOptions, verdictKey, type BuildCommand } from './build-command-line.js';
import { EXIT, STOP_SIGNALS } from './exit-codes.js';
import { writeLastBuildStats } from './last-build.js';
import { projectFile } from './project.js';
import { listenForStopSignals } from './stop-signals.js';

/**
 * `spx build` when nothing has changed since a build of the same command
 * found every node fresh (fresh-snapshot.ts): the same lines, events and
 * exit code, from a check of the stats that build's verdict rested on,
 * without loading the pipeline, spx.lock or the stat cache. Undefined when
 * the full build must judge: a changed file, another command line, an
 * option that asks for more than a verdict, or any doubt (a bad option
 * is the full build's to report).
 */
export async function buildIfStillFresh(args: string[]): Promise<number | undefined> {
  const started = performance.now();
  let command: BuildCommand | undefined;
  let file: string;
  try {
    command = parseOptions(args);
    if (!command || !replayable(command)) return undefined;
    file = projectFile({ directory: command.values.directory, file: command.values.file });
  } catch {
    return undefined;
  }
  const stateDir = join(dirname(file), '.spx');
  const lock = await BuildLock.acquire(stateDir, { wait: false, onWait: () => undefined });
  if (typeof lock === 'string') return undefined;
  try {
    // Checked under the lock: a build that started a moment ago may be changing things.
    const verdict = freshVerdict(dirname(file), stateDir, verdictKey(file, command), process.env);
    if (verdict === undefined) return undefined;
    return await replay(verdict, command, stateDir, lock, started);
  } finally {
    lock.release();
  }
}

/**
 * The options under which a fresh build shows nothing but its verdict. A
 * remote cache is left to the full build: opening one can warn.
 */
function replayable({ values, watch }: BuildCommand): boolean {
  if (watch || values['dry-run'] || values.force || values['max-tokens'] !== undefined || values['max-cost'] !== undefined) return false;
  return values['remote-cache'] === undefined && !process.env.SPX_REMOTE_CACHE_URL;
}

async function replay(verdict: FreshVerdict, { values, output, jobs }: BuildCommand, stateDir: string, lock: BuildLock, started: number): Promise<number> {
  const chosen = selectRenderer({
    output,
    explain: values.explain ?? false,
    verbose: values.verbose ?? false,
    nodeCount: verdict.nodes.length,
    // Only a node that ran shows its output.
    showOutputOf: new Set(),
  });
  const renderer = new RedactingRenderer(chosen, secretValues(process.env));
  const stop = listenForStopSignals(renderer, lock);
  try {
    renderer.handle({ type: 'build-start', nodes: verdict.nodes, jobs, dependencies: verdict.dependencies });
    for (const node of verdict.fresh) renderer.handle({ type: 'fresh', node, handEdited: [] });
    const summary: BuildSummary = { ran: [], restored: [], fresh: verdict.nodes, stale: [], failed: [], skipped: [], awaitingReview: [], interrupted: false, tokens: { spent: 0, saved: 0 } };
    renderer.handle({ type: 'build-end', summary, seconds: roundSeconds((performance.now() - started) / 1000) });
    await renderer.flush();
    writeLastBuildStats(stateDir, summary, 0);
    return stop.stoppedBy === undefined ? EXIT.ok : STOP_SIGNALS[stop.stoppedBy];
  } finally {
    stop.dispose();
  }
}
