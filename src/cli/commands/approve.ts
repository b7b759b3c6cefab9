import { BuildLock } from '../../state/build-lock.js';
import { BuildState } from '../../state/build-state.js';
import { StatCache } from '../../state/stat-cache.js';
import { approveNode, nodesAwaitingReview } from '../../state/approval.js';
import { parseCommandArgs } from '../args.js';
import { EXIT } from '../exit-codes.js';
import { openProject } from '../project.js';

export const help = `Usage: spx approve [options] [NODE...]

Approves the outputs of review nodes (plan nodes, and any node with
review: true) as they are now, hand edits included: records their hash in
spx.lock, so that the next build lets their dependents run. Editing an
output after approving it voids the approval. Without NODE, lists the nodes
awaiting review.

Options:
  -f, --file FILE    pipeline file (default: spx.yaml)
  -C DIR             run as if started in DIR
  -h, --help         show this help

Exit codes: 0 approved (or listed), 1 the project is locked by a build, 2 usage error.`;

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('approve', args, {});
  if (values.help) {
    console.log(help);
    return EXIT.ok;
  }
  const { pipeline, stateDir } = await openProject({ directory: values.directory, file: values.file });
  if (positionals.length === 0) {
    const waiting = nodesAwaitingReview(pipeline, BuildState.open(pipeline.root, stateDir, { readOnly: true }));
    console.log(waiting.length === 0 ? 'no node awaits review' : `awaiting review: ${waiting.join(', ')} (approve with: spx approve ${waiting.join(' ')})`);
    return EXIT.ok;
  }
  const lock = await BuildLock.acquire(stateDir, { wait: false, onWait: () => undefined });
  if (typeof lock === 'string') {
    console.error(`spx: a build is running in ${lock}; approve after it ends`);
    return EXIT.failed;
  }
  try {
    const state = BuildState.open(pipeline.root, stateDir);
    const statCache = StatCache.load(pipeline.root, stateDir);
    for (const node of positionals) {
      const { outputs, hash } = approveNode(pipeline, state, statCache, node);
      console.log(`approved ${node} (${outputs.join(', ')}; ${hash.slice(0, 12)})`);
    }
    state.flush();
    statCache.save();
  } finally {
    lock.release();
  }
  return EXIT.ok;
}
