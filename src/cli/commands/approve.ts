import { BuildLock } from '../../state/build-lock.js';
import { BuildState } from '../../state/build-state.js';
import { StatCache } from '../../state/stat-cache.js';
import { approveNode, nodesAwaitingReview } from '../../state/approval.js';
import { parseCommandArgs } from '../args.js';
import { EXIT } from '../exit-codes.js';
import { openProject } from '../project.js';
import { keepApprovedBytes } from '../approved-bytes.js';
import { resolveCacheDir } from '../../cache/location.js';
import { askYesNo, canAsk } from '../ask.js';
import { Graph } from '../../graph/graph.js';
import type { LoadedPipeline } from '../../config/types.js';
import { UserError } from '../../util/errors.js';

export const help = `Usage: spx approve [options] [NODE...]

Approves the outputs of review nodes (plan nodes, and any node with
review: true) as they are now, hand edits included: records their hash in
spx.lock, so that the next build lets their dependents run. Editing an
output after approving it voids the approval. Without NODE, lists the nodes
awaiting review.

NODE may be an instance of a foreach node (plan:login). A foreach node's
bare name (plan) with one instance awaiting review approves it; with
several, spx asks for each on a terminal, and elsewhere needs their ids or
--all.

Options:
      --all          approve every instance awaiting review of the named
                     nodes (without NODE: every node awaiting review)
  -f, --file FILE    pipeline file (default: spx.yaml here or in the nearest
                     directory above, up to the repository root)
  -C, --directory DIR
                     run as if started in DIR
  -h, --help         show this help

Exit codes: 0 approved (or listed), 1 the project is locked by a build, 2 usage error
(an unknown node, or several instances awaiting review and no terminal to ask).`;

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('approve', args, { all: { type: 'boolean' } });
  if (values.help) {
    console.log(help);
    return EXIT.ok;
  }
  const { pipeline, stateDir } = await openProject({ directory: values.directory, file: values.file });
  const waiting = nodesAwaitingReview(pipeline, BuildState.open(pipeline.root, stateDir, { readOnly: true }));
  if (positionals.length === 0 && !values.all) {
    console.log(waiting.length === 0 ? 'no node awaits review' : `awaiting review: ${waiting.join(', ')} (approve with: spx approve ${waiting.join(' ')})`);
    return EXIT.ok;
  }
  const chosen = positionals.length === 0 ? waiting : await choose(pipeline, positionals, waiting, values.all ?? false);
  if (chosen === 'interrupted') return EXIT.interrupted;
  const lock = await BuildLock.acquire(stateDir, { wait: false, onWait: () => undefined });
  if (typeof lock === 'string') {
    console.error(`spx: error: a build is running in ${lock}; approve after it ends`);
    return EXIT.failed;
  }
  try {
    const state = BuildState.open(pipeline.root, stateDir);
    const statCache = StatCache.load(pipeline.root, stateDir);
    for (const node of chosen) {
      const { outputs, hash } = approveNode(pipeline, state, statCache, node);
      console.log(`approved ${node} (${outputs.join(', ')}; ${hash.slice(0, 12)})`);
    }
    keepApprovedBytes(pipeline, state, resolveCacheDir(undefined, process.env, stateDir), chosen);
    state.flush();
    statCache.save();
  } finally {
    lock.release();
  }
  return EXIT.ok;
}

/**
 * The nodes the names stand for. A foreach node's bare name means its
 * instances that await review; when several do, each is a separate
 * decision: asked one by one on a terminal, else named or `--all`.
 */
async function choose(pipeline: LoadedPipeline, names: readonly string[], waiting: readonly string[], all: boolean): Promise<string[] | 'interrupted'> {
  const graph = new Graph(pipeline.config);
  const chosen: string[] = [];
  for (const name of names) {
    const instances = pipeline.config.instances?.[name];
    if (!instances) {
      chosen.push(...graph.resolve([name]));
      continue;
    }
    const awaiting = instances.filter((instance) => waiting.includes(instance));
    if (awaiting.length <= 1 || all) {
      chosen.push(...(awaiting.length > 0 ? awaiting : instances));
      continue;
    }
    if (!canAsk(false)) {
      throw new UserError(`"${name}" has ${awaiting.length} instances awaiting review: ${awaiting.join(', ')}; name the ones to approve (spx approve ${awaiting[0]}) or approve them all with --all`);
    }
    for (const instance of awaiting) {
      const outputs = pipeline.config.nodes[instance]!.outputs.join(', ');
      const answer = await askYesNo(`Approve ${instance} (${outputs})? [y/N] `);
      if (answer === 'interrupted') return 'interrupted';
      if (answer === 'yes') chosen.push(instance);
    }
  }
  return [...new Set(chosen)];
}
