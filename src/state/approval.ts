import type { LoadedPipeline, NodeConfig } from '../config/types.js';
import { hashOutput } from '../files/output-hash.js';
import { hashOutputs } from '../fingerprint/fingerprint.js';
import { didYouMean } from '../config/suggest.js';
import { UserError } from '../util/errors.js';
import type { ContentHash } from '../util/hash.js';
import { nameTable } from '../util/name-table.js';
import type { BuildState } from './build-state.js';
import { withHandEdits } from './hand-edits.js';
import type { LockEntry } from './lockfile.js';
import type { StatCache } from './stat-cache.js';

/**
 * Records that a human approved a review node's outputs as they are now,
 * hand edits included (the edit is what was reviewed). Dependents then run
 * on exactly that content; any later change voids the approval.
 */
export function approveNode(
  pipeline: LoadedPipeline,
  state: BuildState,
  statCache: StatCache,
  node: string,
): { outputs: string[]; hash: ContentHash; files: Record<string, ContentHash> } {
  const config = pipeline.config.nodes[node];
  if (!config) {
    const names = Object.keys(pipeline.config.nodes);
    throw new UserError(`unknown node "${node}"${didYouMean(node, names)}; the pipeline has: ${names.join(', ')}`);
  }
  if (!('review' in config) || !config.review) throw new UserError(`node "${node}" has no review gate (review: true) to approve`);
  const entry = state.get(node);
  if (!entry) throw new UserError(`node "${node}" has not been built yet: run "spx build ${node}" first`);
  const current = nameTable<ContentHash>();
  for (const output of config.outputs) {
    const hash = hashOutput(statCache, pipeline.root, output);
    if (hash === undefined) throw new UserError(`${output} (output of "${node}") is missing: run "spx build ${node}" to regenerate it`);
    current[output] = hash;
  }
  const updated = withHandEdits(entry, current);
  const hash = hashOutputs(updated.outputs);
  state.record(node, { ...updated, approved: hash, approvedOutputs: { ...updated.outputs } });
  return { outputs: config.outputs, hash, files: updated.outputs };
}

/**
 * The review gate, decided here only: a `review: true` node that was built
 * awaits review until the hash of its recorded outputs is the approved one.
 * An unapproved plan never reaches an agent, and an edit after approval
 * voids it. Undefined when the node passes.
 */
export function pendingReview(config: NodeConfig, entry: LockEntry | undefined): ContentHash | undefined {
  if (!('review' in config) || !config.review || !entry) return undefined;
  const current = hashOutputs(entry.outputs);
  return entry.approved === current ? undefined : current;
}

/** Review nodes of the pipeline whose outputs are built but not approved as they are recorded. */
export function nodesAwaitingReview(pipeline: LoadedPipeline, state: BuildState): string[] {
  return Object.entries(pipeline.config.nodes)
    .filter(([name, config]) => pendingReview(config, state.get(name)) !== undefined)
    .map(([name]) => name);
}
