import type { BuildEvent } from '../../scheduler/events.js';
import { pendingReview } from '../../state/approval.js';
import type { BuildState } from '../../state/build-state.js';
import type { LoadedPipeline } from '../../config/types.js';
import { describeSkipReason, describeStaleReason } from '../../render/describe.js';
import { parseCommandArgs } from '../args.js';
import { EXIT } from '../exit-codes.js';
import { openProject } from '../project.js';
import { dryRun, openRecordedState } from '../dry-run.js';

export const help = `Usage: spx check [options] [NODE...]

Exits 0 when every node (default: all) is fresh and every reviewed output
is approved as it is now; else exits 1 and lists each problem: a stale node
and why, an output awaiting review, an approved output edited since. The
make -q of spx, for a CI step: calls no model, needs no key, writes nothing.

Options:
      --json         print {"ok", "problems": [{"type": "stale", "node", "reasons"}
                     | {"type": "awaiting-review", "node", "outputs"}
                     | {"type": "edited-since-approval", "node", "outputs"}
                     | {"type": "blocked", "node", "because"}]}
  -f, --file FILE    pipeline file (default: spx.yaml here or in the nearest
                     directory above, up to the repository root)
  -C, --directory DIR
                     run as if started in DIR
  -h, --help         show this help

Exit codes: 0 all fresh and approved, 1 a problem listed, 2 usage or pipeline error.`;

/** Why the project is not as built and approved; reasons worded as spx status words them. */
type Problem =
  | { type: 'stale'; node: string; reasons: string[] }
  | { type: 'awaiting-review'; node: string; outputs: string[] }
  /** A reviewed output changed after its approval: the approval no longer holds. */
  | { type: 'edited-since-approval'; node: string; outputs: string[] }
  /** Not judged: a node it depends on is not built or awaits review. */
  | { type: 'blocked'; node: string; because: string };

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('check', args, { json: { type: 'boolean' } });
  if (values.help) {
    console.log(help);
    return EXIT.ok;
  }
  const project = await openProject({ directory: values.directory, file: values.file, cache: false });
  const state = openRecordedState(project);
  const approvedAsRecorded = nodesApprovedAsRecorded(project.pipeline, state);
  const events = await dryRun(project, state, { targets: positionals, writeNothing: true });
  const problems = problemsIn(events, approvedAsRecorded);
  if (values.json) {
    console.log(JSON.stringify({ ok: problems.length === 0, problems }, null, 2));
  } else {
    for (const problem of problems) console.log(describeProblem(problem));
    console.log(problems.length === 0 ? 'ok: every node is fresh and every reviewed output approved' : `${problems.length} problem(s)`);
  }
  return problems.length === 0 ? EXIT.ok : EXIT.failed;
}

/** Before the dry run takes hand edits in: review nodes approved exactly as spx.lock records them. */
function nodesApprovedAsRecorded(pipeline: LoadedPipeline, state: BuildState): Set<string> {
  const approved = Object.entries(pipeline.config.nodes).filter(([name, config]) => {
    const entry = state.get(name);
    return entry?.approved !== undefined && pendingReview(config, entry) === undefined;
  });
  return new Set(approved.map(([name]) => name));
}

function problemsIn(events: BuildEvent[], approvedAsRecorded: Set<string>): Problem[] {
  const edited = new Map<string, string[]>();
  const problems: Problem[] = [];
  for (const event of events) {
    if (event.type === 'fresh') edited.set(event.node, event.handEdited);
    if (event.type === 'stale') problems.push({ type: 'stale', node: event.node, reasons: event.reasons.map(describeStaleReason) });
    if (event.type === 'skipped') problems.push({ type: 'blocked', node: event.node, because: describeSkipReason(event.because) });
    if (event.type === 'review') {
      const handEdited = edited.get(event.node) ?? [];
      // Fresh with an edit, yet held at the gate though it was approved as recorded: the edit voided the approval.
      if (approvedAsRecorded.has(event.node) && handEdited.length > 0) problems.push({ type: 'edited-since-approval', node: event.node, outputs: handEdited });
      else problems.push({ type: 'awaiting-review', node: event.node, outputs: event.outputs });
    }
  }
  return problems;
}

function describeProblem(problem: Problem): string {
  switch (problem.type) {
    case 'stale':
      return [`${problem.node}: stale`, ...problem.reasons.map((reason) => `    ${reason}`)].join('\n');
    case 'awaiting-review':
      return `${problem.node}: awaiting review of ${problem.outputs.join(', ')} (spx approve ${problem.node})`;
    case 'edited-since-approval':
      return `${problem.node}: ${problem.outputs.join(', ')} edited since approval (review it, then spx approve ${problem.node})`;
    case 'blocked':
      return `${problem.node}: blocked, ${problem.because}`;
  }
}
