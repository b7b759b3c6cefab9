import { availableParallelism } from 'node:os';
import { BuildLock } from '../../state/build-lock.js';
import { BuildState } from '../../state/build-state.js';
import { StatCache } from '../../state/stat-cache.js';
import { build } from '../../scheduler/builder.js';
import { Graph } from '../../graph/graph.js';
import { selectRenderer } from '../../render/select.js';
import { parseCommandArgs, parseJobs } from '../args.js';
import { EXIT } from '../exit-codes.js';
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
  -f, --file FILE    pipeline file (default: spx.yaml)
  -C DIR             run as if started in DIR
  -h, --help         show this help

Exit codes: 0 built, 1 a node failed, 2 usage or pipeline error, 130 interrupted.`;

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
  });
  if (values.help) {
    console.log(help);
    return EXIT.ok;
  }
  const jobs = parseJobs(values.jobs, availableParallelism());
  const project = await openProject({ directory: values.directory, file: values.file });
  const { pipeline, stateDir } = project;
  const targets = positionals;
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
  const onSignal = (signal: NodeJS.Signals): void => {
    // A second Ctrl-C means "now": the first is already stopping children.
    if (controller.signal.aborted) process.exit(EXIT.interrupted);
    controller.abort(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const renderer = await selectRenderer({
    json: values.json ?? false,
    explain: (values.explain ?? false) || (values['dry-run'] ?? false),
    verbose: values.verbose ?? false,
    nodeCount,
  });
  const state = BuildState.open(pipeline.root, stateDir);
  const statCache = StatCache.load(pipeline.root, stateDir);
  try {
    const summary = await build(
      pipeline,
      state,
      statCache,
      {
        targets,
        jobs,
        keepGoing: values['keep-going'] ?? false,
        force: values.force ? (targets.length > 0 ? new Set(targets) : 'all') : new Set(),
        dryRun: values['dry-run'] ?? false,
        signal: controller.signal,
        env: process.env,
      },
      (event) => renderer.handle(event),
    );
    await renderer.close();
    if (summary.interrupted) return EXIT.interrupted;
    return summary.failed.length > 0 ? EXIT.failed : EXIT.ok;
  } finally {
    if (!values['dry-run']) {
      state.retainOnly(new Set(Object.keys(pipeline.config.nodes)));
      state.flush();
    }
    statCache.save();
    lock?.release();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
