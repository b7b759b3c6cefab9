import { closeSync, writeSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { BuildLock } from '../../state/build-lock.js';
import { BuildState } from '../../state/build-state.js';
import { StatCache } from '../../state/stat-cache.js';
import { build } from '../../scheduler/builder.js';
import { Graph } from '../../graph/graph.js';
import { selectRenderer } from '../../render/select.js';
import type { Renderer } from '../../render/renderer.js';
import { killEveryGroup } from '../../util/child-process.js';
import { resolveCacheDir } from '../../cache/location.js';
import { openCache } from '../../cache/open-cache.js';
import { resolveRemote } from '../../cache/remote-config.js';
import { writeLastBuildStats } from '../last-build.js';
import { RedactingRenderer } from '../../render/redacting-renderer.js';
import { secretValues } from '../../util/secrets.js';
import { UserError } from '../../util/errors.js';
import { approveNode } from '../../state/approval.js';
import { rememberGone } from '../../state/gone-outputs.js';
import { withProvider } from '../../config/override-provider.js';
import type { BuildSummary } from '../../scheduler/events.js';
import type { LoadedPipeline } from '../../config/types.js';
import { parseCommandArgs, parseJobs } from '../args.js';
import { EXIT, STOP_SIGNALS, type StopSignal } from '../exit-codes.js';
import { openProject } from '../project.js';

export const help = `Usage: spx build [options] [NODE...]

Builds the named nodes (default: all) and everything they need, running only
the nodes that are stale, independent ones in parallel.

Options:
  -j, --jobs N       run up to N nodes at once (default: the number of CPUs)
  -k, --keep-going   after a failure, finish every node that does not depend on it
      --force        rebuild the named nodes (or all) even when fresh
  -n, --dry-run      say what would run, and why, without running anything
      --explain      say why each node that runs is stale
      --json         one JSON event per line on stdout
  -v, --verbose      also list fresh nodes
      --no-wait      fail at once if another build holds the project lock
      --cache-dir D  the cache directory (default: $SPX_CACHE_DIR, else .spx/cache)
      --no-cache     neither restore from nor store into the cache (local or remote)
      --cache-only   for CI: restore what the cache has; fail, naming them, the
                     nodes that would have to run (nothing is run)
      --remote-cache URL
                     a Turborepo Remote Cache API server behind the local cache
                     (default: $SPX_REMOTE_CACHE_URL, else cache.remote.url); the
                     token is read from $SPX_REMOTE_CACHE_TOKEN, the team from
                     $SPX_REMOTE_CACHE_TEAM or cache.remote.team
      --remote-read-only
                     restore from the remote cache, upload nothing (pull
                     requests; also SPX_REMOTE_CACHE_READ_ONLY=1)
      --approve      approve every output awaiting review without asking (CI)
      --provider P   use provider P for every model node, for this run
                     (e.g. --provider echo rehearses the pipeline offline)
  -f, --file FILE    pipeline file (default: spx.yaml)
  -C DIR             run as if started in DIR
  -h, --help         show this help

Exit codes: 0 built, 1 a node failed (or, with --cache-only, missed the cache),
3 stopped at a review gate (spx approve NODE, then build again), 2 usage or pipeline error,
130 interrupted (Ctrl-C), 143 terminated (SIGTERM), 129 hung up (SIGHUP).`;

const STOP_SIGNAL_NAMES = Object.keys(STOP_SIGNALS) as StopSignal[];

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('build', args, {
    jobs: { type: 'string', short: 'j' },
    'keep-going': { type: 'boolean', short: 'k' },
    force: { type: 'boolean' },
    'dry-run': { type: 'boolean', short: 'n' },
    explain: { type: 'boolean' },
    json: { type: 'boolean' },
    verbose: { type: 'boolean', short: 'v' },
    'no-wait': { type: 'boolean' },
    'cache-dir': { type: 'string' },
    'no-cache': { type: 'boolean' },
    'cache-only': { type: 'boolean' },
    'remote-cache': { type: 'string' },
    'remote-read-only': { type: 'boolean' },
    approve: { type: 'boolean' },
    provider: { type: 'string' },
  });
  if (values.help) {
    console.log(help);
    return EXIT.ok;
  }
  const jobs = parseJobs(values.jobs, availableParallelism());
  if (values['no-cache'] && values['cache-only']) throw new UserError('--no-cache and --cache-only contradict each other');
  // --force means "run it again"; --cache-only means "run nothing".
  if (values.force && values['cache-only']) throw new UserError('--force and --cache-only contradict each other');
  const project = await openProject({ directory: values.directory, file: values.file });
  const { stateDir } = project;
  const pipeline = values.provider === undefined ? project.pipeline : withProvider(project.pipeline, values.provider);
  const targets = positionals;
  // A dry run reads the local cache only: it asks no server anything.
  const remote =
    values['no-cache'] || values['dry-run']
      ? ({ kind: 'none' } as const)
      : resolveRemote(pipeline.config.cache.remote, { url: values['remote-cache'], readOnly: values['remote-read-only'] }, process.env);
  const nodeCount = new Graph(pipeline.config).closure(targets).length;

  const lock = values['dry-run']
    ? undefined
    : await BuildLock.acquire(stateDir, {
        wait: !values['no-wait'],
        onWait: (holder) => console.error(`spx: waiting for the build running in ${holder}`),
      });
  if (typeof lock === 'string') {
    console.error(`spx: another build holds the project lock: ${lock}`);
    return EXIT.failed;
  }

  const controller = new AbortController();
  let stoppedBy: StopSignal | undefined;
  /** The renderer of the build under way, to leave the terminal usable on a forced exit. */
  let current: Renderer | undefined;
  const onSignal = (signal: StopSignal): void => {
    if (stoppedBy === undefined) {
      // The scheduler stops the running programs' process groups, records
      // nothing more, and the renderer ends with the summary.
      stoppedBy = signal;
      controller.abort(signal);
      return;
    }
    // A second signal means "now": nothing is waited for, not even a
    // program's grace period. What finished is already in the journal.
    killEveryGroup();
    current?.abandon();
    try {
      // To the descriptor: a task list holds back what is written to the stream.
      writeSync(2, `\nspx: stopped at once (${signal} again): running commands killed; finished nodes are recorded\n`);
    } catch {
      // No terminal left to tell (SIGHUP).
    }
    lock?.release();
    if (stoppedBy === 'SIGHUP' || signal === 'SIGHUP') letGoOfTheTerminal();
    process.exit(STOP_SIGNALS[stoppedBy]);
  };
  for (const signal of STOP_SIGNAL_NAMES) process.on(signal, onSignal);

  // The remote's one warning goes to the renderer of the build under way.
  let warnCache = (message: string): void => console.error(`spx: ${message}`);
  const cache = values['no-cache']
    ? undefined
    : await openCache(resolveCacheDir(values['cache-dir'], process.env, stateDir), remote, { signal: controller.signal, warn: (message) => warnCache(message) });
  let state: BuildState;
  try {
    state = BuildState.open(pipeline.root, stateDir, { readOnly: values['dry-run'] ?? false });
  } catch (error) {
    // A damaged spx.lock or journal is exit 2, and the next build must not
    // find this one's lock in its way.
    lock?.release();
    for (const signal of STOP_SIGNAL_NAMES) process.off(signal, onSignal);
    throw error;
  }
  const statCache = StatCache.load(pipeline.root, stateDir);
  const buildOnce = async (): Promise<BuildSummary> => {
    const renderer = new RedactingRenderer(
      await selectRenderer({
        json: values.json ?? false,
        explain: (values.explain ?? false) || (values['dry-run'] ?? false),
        verbose: values.verbose ?? false,
        nodeCount,
      }),
      secretValues(process.env),
    );
    current = renderer;
    warnCache = (message) => renderer.handle({ type: 'cache-warning', message });
    let savedSeconds = 0;
    const summary = await build(
      pipeline,
      state,
      statCache,
      {
        targets,
        jobs,
        keepGoing: values['keep-going'] ?? false,
        force: values.force ? (targets.length > 0 ? new Set(new Graph(pipeline.config).resolve(targets)) : 'all') : new Set(),
        dryRun: values['dry-run'] ?? false,
        cache,
        cacheOnly: values['cache-only'] ?? false,
        approve: values.approve ?? false,
        stateDir,
        signal: controller.signal,
        env: process.env,
      },
      (event) => {
        if (event.type === 'restored') savedSeconds += event.savedSeconds;
        renderer.handle(event);
      },
    );
    await renderer.close();
    warnCache = (message) => console.error(`spx: ${message}`);
    const remoteStats = cache && 'takeStats' in cache ? cache.takeStats() : undefined;
    // Written for a --no-cache build too: `spx cache stats` must not show an
    // older build's hits as the last build's.
    if (!values['dry-run']) writeLastBuildStats(stateDir, summary, savedSeconds, remoteStats);
    return summary;
  };
  try {
    let summary = await buildOnce();
    // On a terminal, the review can happen right here: approve, and the
    // build goes on to the dependents.
    while (summary.awaitingReview.length > 0 && summary.failed.length === 0 && !summary.interrupted && canAsk(values.json ?? false)) {
      const answer = await askToApprove(pipeline, summary.awaitingReview);
      if (answer === 'interrupted') {
        console.log('\nspx: interrupted at the review prompt; nothing was approved');
        return EXIT.interrupted;
      }
      if (answer === 'no') break;
      for (const node of summary.awaitingReview) approveNode(pipeline, state, statCache, node);
      summary = await buildOnce();
    }
    if (values['cache-only'] && summary.failed.length > 0) {
      console.error(`spx: --cache-only: not in the cache, so these would have to run: ${[...summary.failed, ...summary.skipped].join(', ')}`);
    }
    if (summary.interrupted) return STOP_SIGNALS[stoppedBy ?? 'SIGINT'];
    if (summary.failed.length > 0) return EXIT.failed;
    if (summary.awaitingReview.length > 0) {
      for (const node of summary.awaitingReview) {
        const outputs = pipeline.config.nodes[node]!.outputs.join(', ');
        console.error(`spx: review ${outputs}, then run: spx approve ${node}   (or build with --approve)`);
      }
      return EXIT.review;
    }
    return EXIT.ok;
  } finally {
    if (!values['dry-run']) {
      const present = new Set(Object.keys(pipeline.config.nodes));
      rememberGone(stateDir, state.retainOnly(present), present);
      state.flush();
    }
    statCache.save();
    lock?.release();
    for (const signal of STOP_SIGNAL_NAMES) process.off(signal, onSignal);
    if (stoppedBy === 'SIGHUP') letGoOfTheTerminal();
  }
}

/**
 * After a hang-up, the terminal spx started on is gone. Node 20 restores a
 * terminal's settings on exit and aborts with an assertion when it cannot
 * (nodejs/node#51519, fixed in later Node); it skips descriptors the program
 * closed.
 */
function letGoOfTheTerminal(): void {
  for (const [fd, stream] of [[0, process.stdin], [1, process.stdout], [2, process.stderr]] as const) {
    if (!stream.isTTY) continue;
    try {
      closeSync(fd);
    } catch {
      // Already closed.
    }
  }
}

/** Asking needs a person: a terminal on both ends, not CI, not --json. */
function canAsk(json: boolean): boolean {
  const isCi = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false';
  return !json && !isCi && process.stdin.isTTY === true && process.stdout.isTTY === true;
}

async function askToApprove(pipeline: LoadedPipeline, nodes: readonly string[]): Promise<'yes' | 'no' | 'interrupted'> {
  const { createInterface } = await import('node:readline/promises');
  const outputs = nodes.flatMap((node) => pipeline.config.nodes[node]!.outputs).join(', ');
  const readline = createInterface({ input: process.stdin, output: process.stdout });
  try {
    const answer = await readline.question(`Review ${outputs}. Approve ${nodes.join(', ')} and continue? [y/N] `);
    return /^y(es)?$/i.test(answer.trim()) ? 'yes' : 'no';
  } catch (error) {
    // The terminal is in raw mode while it asks: Ctrl-C reaches readline as a key, not as SIGINT.
    if ((error as NodeJS.ErrnoException).code === 'ABORT_ERR') return 'interrupted';
    throw error;
  } finally {
    readline.close();
  }
}
