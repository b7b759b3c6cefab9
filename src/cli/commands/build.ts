import { BuildLock } from '../../state/build-lock.js';
import { BuildState } from '../../state/build-state.js';
import { StatCache } from '../../state/stat-cache.js';
import { build } from '../../scheduler/builder.js';
import { spendsNoTokens } from '../../config/token-kinds.js';
import type { BuildOptions } from '../../scheduler/build-options.js';
import { Graph } from '../../graph/graph.js';
import { selectRenderer } from '../../render/select.js';
import type { Renderer } from '../../render/renderer.js';
import { resolveCacheDir } from '../../cache/location.js';
import { openCache } from '../../cache/open-cache.js';
import { resolveRemote, type RemoteChoice } from '../../cache/remote-config.js';
import { writeLastBuildStats } from '../last-build.js';
import { RedactingRenderer } from '../../render/redacting-renderer.js';
import { secretValues } from '../../util/secrets.js';
import { UserError } from '../../util/errors.js';
import { approveNode } from '../../state/approval.js';
import { rememberGone } from '../../state/gone-outputs.js';
import { withProvider } from '../../config/override-provider.js';
import type { BuildSummary } from '../../scheduler/events.js';
import type { LoadedPipeline } from '../../config/types.js';
import { parseOptions, verdictKey, type BuildCommand as Command } from '../build-command-line.js';
import { VerdictRecorder } from '../verdict-recorder.js';
import { forgetFreshSnapshot } from '../../state/fresh-snapshot.js';
import { refusalOverBudget, resolveBudget } from '../budget.js';
import { EXIT, STOP_SIGNALS } from '../exit-codes.js';
import { openProject } from '../project.js';
import { warnOfTemplateSpecs } from '../template-warning.js';
import { letGoOfTheTerminal, listenForStopSignals, type StopSignals } from '../stop-signals.js';


export const help = `Usage: spx build [options] [NODE...]

Builds the named nodes (default: all) and everything they need, running only
the nodes that are stale, independent ones in parallel.

Options:
  -j, --jobs N       run up to N nodes at once (default: the number of CPUs)
  -k, --keep-going   after a failure, finish every node that does not depend on it
      --force        rebuild the named nodes (or all) even when fresh
  -n, --dry-run      say what would run, and why, without running anything; for
                     each model node, the tokens and cost it would use
      --exact        for the forecast (--dry-run, a budget's check): ask the provider
                     to count the prompt's tokens where it can (Gemini's countTokens)
      --explain      say why each node that runs is stale
  -o, --output MODE  how to show the build: auto (default: a live task list on
                     a terminal, plain lines in CI, in pipes and when NO_COLOR,
                     FORCE_COLOR=0 or TERM=dumb is set), tasks, plain, or json
      --json         one JSON event per line on stdout (--output json)
  -v, --verbose      also list fresh nodes, and show the output of every node
                     that succeeds (a failed node's output is always shown;
                     showOutput: true in spx.yaml does this for one node)
      --no-wait      fail at once if another build holds the project lock
      --cache-dir D  the cache directory (default: $SPX_CACHE_DIR, else .spx/cache)
      --no-cache     neither restore from nor store into the cache (local or remote)
      --cache-only   for CI: no model or agent is called: spec, plan and
                     execute nodes must be restored from the cache, or the
                     build fails naming them; run and context nodes (which
                     spend no token) run as usual
      --remote-cache URL
                     a Turborepo Remote Cache API server behind the local cache
                     (default: $SPX_REMOTE_CACHE_URL, else cache.remote.url); the
                     token is read from $SPX_REMOTE_CACHE_TOKEN, the team from
                     $SPX_REMOTE_CACHE_TEAM or cache.remote.team
      --remote-read-only
                     restore from the remote cache, upload nothing (pull
                     requests; also SPX_REMOTE_CACHE_READ_ONLY=1)
      --approve      approve every output awaiting review without asking (CI);
                     it does not bypass a budget
      --max-tokens N the budget in model tokens (input + output) of this build:
                     refused, nothing sent, when the forecast exceeds it; no new
                     model node starts once the calls' spend crosses it (exit 1)
      --max-cost USD the same in US dollars, from the providers' price settings
                     (both win over budget: in spx.yaml; see docs/cost.md)
      --provider P   use provider P for every model node, for this run
                     (--provider rehearse, built in, rehearses the pipeline
                     offline; echo is its older name)
      --watch        build, then build again whenever an input, an output or
                     the pipeline file changes; a save never runs a model or
                     agent node (they are reported stale): on a terminal, m
                     runs them, q quits (see docs/watch.md)
      --watch=all    as --watch, but a save runs model and agent nodes too
  -f, --file FILE    pipeline file (default: spx.yaml here or in the nearest
                     directory above, up to the repository root)
  -C, --directory DIR
                     run as if started in DIR
  -h, --help         show this help

Exit codes: 0 built, 1 a node failed (or, with --cache-only, missed the cache; or over budget),
3 stopped at a review gate (spx approve NODE, then build again), 2 usage or pipeline error,
130 interrupted (Ctrl-C), 143 terminated (SIGTERM), 129 hung up (SIGHUP).`;


/** What one `spx build` works with, from the lock taken to the exit code. */
interface Session {
  command: Command;
  pipeline: LoadedPipeline;
  stateDir: string;
  renderer: Renderer;
  stop: StopSignals;
  cache: Awaited<ReturnType<typeof openCache>> | undefined;
  state: BuildState;
  statCache: StatCache;
  /** --cache-only: the model and agent nodes of the last build that the cache did not have. */
  cacheMisses: string[];
  /** `spx build --watch`: a save does not run model and agent nodes. */
  holdModelNodes?: boolean;
  /** The budget's limits and what this command's builds have spent so far. */
  budget: BuildOptions['budget'];
  /** Set when this build's verdict may be replayed by the next (fresh-snapshot.ts). */
  recorder?: VerdictRecorder;
}

export async function run(args: string[]): Promise<number> {
  const command = parseOptions(args);
  if (!command) {
    console.log(help);
    return EXIT.ok;
  }
  const { values, targets } = command;
  // Before anything is read: a file changed since then cannot be vouched for by this build (fresh-snapshot.ts).
  const startedAt = Date.now();
  const project = await openProject({ directory: values.directory, file: values.file });
  const { stateDir } = project;
  const pipeline = values.provider === undefined ? project.pipeline : withProvider(project.pipeline, values.provider);
  const limits = resolveBudget(pipeline.config.budget, { maxTokens: values['max-tokens'], maxCost: values['max-cost'] });
  const remote = remoteChoice(command, pipeline);
  const chosenRenderer = await openRenderer(command, pipeline, new Graph(pipeline.config).closure(targets).length);
  const recorder = mayLeaveVerdict(command, remote, limits) ? VerdictRecorder.forBuild(chosenRenderer, pipeline, stateDir, startedAt) : undefined;
  const renderer = recorder ?? chosenRenderer;
  const lock = await takeLock(stateDir, command, renderer);
  if (lock === 'busy') return EXIT.failed;
  // From here on this build may change what the last one's verdict rested on.
  if (lock) forgetFreshSnapshot(stateDir);
  const stop = listenForStopSignals(renderer, lock);
  try {
    // The remote's warnings, the one when it is off included, are the renderer's to say.
    const cache = await openBuildCache(command, remote, stateDir, stop.signal, renderer);
    const state = BuildState.open(pipeline.root, stateDir, { readOnly: values['dry-run'] ?? false });
    const statCache = StatCache.load(pipeline.root, stateDir);
    statCache.witness = recorder?.witness;
    const budget = limits && !values['dry-run'] ? { limits, spent: { tokens: 0 } } : undefined;
    const session: Session = { command, pipeline, stateDir, renderer, stop, cache, state, statCache, cacheMisses: [], budget, recorder };
    // A dry run writes nothing, not even the memory of what was warned about.
    // Only model and agent outputs matter (the rest is remade for free): a pipeline without them loads none of this.
    if (!values['dry-run'] && Object.values(pipeline.config.nodes).some((node) => !spendsNoTokens(node.kind))) {
      const { ignoredOutputWarning, newlyIgnoredOutputs } = await import('../ignored-outputs.js');
      for (const item of await newlyIgnoredOutputs(pipeline.root, stateDir, pipeline.config.nodes, stop.signal)) {
        renderer.handle({ type: 'warning', node: item.node, message: ignoredOutputWarning(item) });
      }
      await warnOfTemplateSpecs(pipeline, targets, renderer);
    }
    let exitCode: number | undefined;
    try {
      // Before anything is built: a build that would cost too much sends nothing. --approve does not bypass it.
      const refusal = budget && (await refusalOverBudget(pipeline, statCache, buildOptions(session), budget.limits));
      if (refusal) {
        renderer.handle(refusal);
        await renderer.flush();
        return EXIT.failed;
      }
      if (command.watch) return await watch(session);
      exitCode = await buildAndReview(session);
      return exitCode;
    } finally {
      saveState(session);
      if (exitCode === EXIT.ok) recorder?.save(verdictKey(pipeline.file, command));
    }
  } finally {
    // After an error too (a damaged spx.lock is exit 2): the next build must not find this one's lock in its way.
    lock?.release();
    stop.dispose();
    if (stop.stoppedBy === 'SIGHUP') letGoOfTheTerminal();
  }
}

/** One renderer for the whole command: the lock's lines, each build, and what to do next. */
async function openRenderer({ values, output }: Command, pipeline: LoadedPipeline, nodeCount: number): Promise<Renderer> {
  const chosen = selectRenderer({
    output,
    explain: (values.explain ?? false) || (values['dry-run'] ?? false),
    verbose: values.verbose ?? false,
    nodeCount,
    showOutputOf: new Set(Object.entries(pipeline.config.nodes).filter(([, node]) => node.showOutput === true).map(([name]) => name)),
  });
  return new RedactingRenderer(chosen, secretValues(process.env));
}

/** The project lock, undefined for a dry run (it writes nothing), or 'busy' when another build has it and --no-wait. */
async function takeLock(stateDir: string, { values }: Command, renderer: Renderer): Promise<BuildLock | undefined | 'busy'> {
  if (values['dry-run']) return undefined;
  const lock = await BuildLock.acquire(stateDir, {
    watch: values.watch === true || values['watch-all'] === true,
    wait: !values['no-wait'],
    onWait: (holder) => renderer.handle({ type: 'lock-wait', holder }),
  });
  if (typeof lock !== 'string') return lock;
  renderer.handle({ type: 'lock-busy', holder: lock });
  return 'busy';
}

function remoteChoice({ values }: Command, pipeline: LoadedPipeline): RemoteChoice {
  // A dry run reads the local cache only: it asks no server anything.
  if (values['no-cache'] || values['dry-run']) return { kind: 'none' };
  return resolveRemote(pipeline.config.cache.remote, { url: values['remote-cache'], readOnly: values['remote-read-only'] }, process.env);
}

async function openBuildCache({ values }: Command, remote: RemoteChoice, stateDir: string, signal: AbortSignal, renderer: Renderer): Promise<Session['cache']> {
  if (values['no-cache']) return undefined;
  return openCache(resolveCacheDir(values['cache-dir'], process.env, stateDir), remote, {
    signal,
    warn: (message) => renderer.handle({ type: 'cache-warning', message }),
  });
}

/**
 * Builds, and on a terminal lets the review happen right here: approve,
 * and the build goes on to the dependents.
 */
async function buildAndReview(session: Session): Promise<number> {
  const { command, pipeline, state, statCache, renderer } = session;
  let summary = await buildOnce(session);
  // The prompt's code loads only when a build stops at a gate and a person can answer.
  while (summary.awaitingReview.length > 0 && summary.failed.length === 0 && !summary.interrupted && (await import('../ask.js')).canAsk(command.output === 'json')) {
    const { askToApprove, showChangesSinceApproval } = await import('../review-prompt.js');
    await showChangesSinceApproval(pipeline, state, localCacheDir(session), summary.awaitingReview);
    const answer = await askToApprove(pipeline, summary.awaitingReview);
    if (answer === 'interrupted') {
      renderer.handle({ type: 'review-prompt-interrupted' });
      return EXIT.interrupted;
    }
    if (answer === 'no') break;
    for (const node of summary.awaitingReview) approveNode(pipeline, state, statCache, node);
    await keepApproved(session, summary.awaitingReview);
    summary = await buildOnce(session);
  }
  return conclude(session, summary);
}

async function buildOnce(session: Session): Promise<BuildSummary> {
  const { command, pipeline, stateDir, renderer, cache } = session;
  let savedSeconds = 0;
  const approved: string[] = [];
  session.cacheMisses = [];
  const summary = await build(pipeline, session.state, session.statCache, buildOptions(session), (event) => {
    if (event.type === 'restored') savedSeconds += event.savedSeconds;
    if (event.type === 'approved') approved.push(event.node);
    if (event.type === 'failure' && event.reason === 'cache-miss') session.cacheMisses.push(event.node);
    renderer.handle(event);
  });
  await keepApproved(session, approved);
  await renderer.flush();
  const remoteStats = cache && 'takeStats' in cache ? cache.takeStats() : undefined;
  // Written for a --no-cache build too: `spx cache stats` must not show an
  // older build's hits as the last build's.
  if (!command.values['dry-run']) writeLastBuildStats(stateDir, summary, savedSeconds, remoteStats);
  return summary;
}

/** --approve and the terminal's y: the approved bytes go to the local cache, for spx diff. */
async function keepApproved(session: Session, nodes: readonly string[]): Promise<void> {
  const cacheDir = localCacheDir(session);
  if (nodes.length === 0 || cacheDir === undefined) return;
  const { keepApprovedBytes } = await import('../approved-bytes.js');
  keepApprovedBytes(session.pipeline, session.state, cacheDir, nodes);
}

/** Where the approved bytes are kept: the local cache, none with --no-cache. */
function localCacheDir({ command: { values }, stateDir }: Session): string | undefined {
  return values['no-cache'] ? undefined : resolveCacheDir(values['cache-dir'], process.env, stateDir);
}

function buildOptions(session: Session): BuildOptions {
  const { command: { values, targets, jobs }, pipeline, cache, stateDir, stop, budget } = session;
  return {
    targets,
    jobs,
    keepGoing: values['keep-going'] ?? false,
    // A foreach node's bare name stands for all of its instances.
    force: values.force ? (targets.length > 0 ? new Set(new Graph(pipeline.config).resolve(targets)) : 'all') : new Set(),
    dryRun: values['dry-run'] ?? false,
    cache,
    cacheOnly: values['cache-only'] ?? false,
    approve: values.approve ?? false,
    stateDir,
    signal: stop.signal,
    env: process.env,
    holdModelNodes: session.holdModelNodes ?? false,
    // The forecast of a dry run, and of a budget's check before the build.
    ...(values['dry-run'] || budget ? { forecast: values.exact ? { exact: { env: process.env, signal: stop.signal } } : {} } : {}),
    ...(budget ? { budget } : {}),
    ...(session.recorder ? { witness: session.recorder.witness } : {}),
  };
}

/**
 * Whether a later build could replay this one's verdict: not a dry run, a
 * watch or --force (which say more than "fresh"), nor a build with a remote
 * cache or a budget (whose checks a replay would skip).
 */
function mayLeaveVerdict({ values, watch }: Command, remote: RemoteChoice, limits: unknown): boolean {
  return !values['dry-run'] && !watch && !values.force && remote.kind === 'none' && limits === undefined;
}

/** The exit code, and what to do next when the build stopped short. */
async function conclude(session: Session, summary: BuildSummary): Promise<number> {
  const { pipeline, renderer, stop, state, cacheMisses } = session;
  if (cacheMisses.length > 0) {
    // The model and agent nodes left unbuilt behind a miss would need a model too; a run node would just run.
    const behind = summary.skipped.filter((node) => !spendsNoTokens(pipeline.config.nodes[node]!.kind));
    renderer.handle({ type: 'cache-only-misses', nodes: [...cacheMisses, ...behind] });
  }
  if (summary.interrupted) return STOP_SIGNALS[stop.stoppedBy ?? 'SIGINT'];
  if (summary.overBudget) {
    renderer.handle({ type: 'budget-crossed', ...summary.overBudget });
    return EXIT.failed;
  }
  if (summary.failed.length > 0) return EXIT.failed;
  if (summary.awaitingReview.length === 0) return EXIT.ok;
  const cacheDir = localCacheDir(session);
  for (const node of summary.awaitingReview) {
    const sinceApproved = cacheDir === undefined ? undefined : await (await import('../approved-bytes.js')).changeSinceApproval(pipeline, state, cacheDir, node);
    renderer.handle({ type: 'review-hint', node, outputs: pipeline.config.nodes[node]!.outputs, ...(sinceApproved ? { sinceApproved } : {}) });
  }
  return EXIT.review;
}

function saveState({ command, pipeline, state, statCache, stateDir }: Session): void {
  if (!command.values['dry-run']) {
    const present = new Set(Object.keys(pipeline.config.nodes));
    const left = state.retainOnly(present);
    if (Object.keys(left).length > 0) rememberGone(stateDir, left, present);
    state.flush();
  }
  statCache.save();
}

/** `--watch`: the session builds again on every change, with the pipeline as last loaded. */
async function watch(session: Session): Promise<number> {
  const { command: { values, targets }, renderer, stop } = session;
  const { watchAndBuild } = await import('../watch/watch-loop.js');
  return watchAndBuild({
    project: { directory: values.directory, file: values.file },
    provider: values.provider,
    targets,
    pipeline: session.pipeline,
    renderer,
    stop,
    runModelNodesOnSave: values['watch-all'] === true,
    build: async (pipeline, options) => {
      const command = { ...session.command, targets: options.targets };
      const build: Session = { ...session, command, pipeline, renderer: options.renderer, holdModelNodes: options.holdModelNodes };
      try {
        return await buildAndReview(build);
      } finally {
        saveState(build);
      }
    },
  });
}
