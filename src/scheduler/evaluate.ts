import type { LoadedPipeline } from '../config/types.js';
import { hashEnv } from '../fingerprint/env.js';
import { computeFingerprint, hashOutputs, hashSettings, sameParts, type FingerprintParts } from '../fingerprint/fingerprint.js';
import { explainStaleness, type OutputProblem, type StaleReason } from '../fingerprint/explain.js';
import { displayName } from '../files/file-name.js';
import { isGlob } from '../files/input-resolver.js';
import { NodeFailure } from '../nodes/kind.js';
import { handlerFor } from '../nodes/registry.js';
import type { BuildState } from '../state/build-state.js';
import type { LockEntry } from '../state/lockfile.js';
import type { ContentHash, Fingerprint } from '../util/hash.js';
import { nameTable, ownEntry } from '../util/name-table.js';
import type { ProjectFiles } from './project-files.js';

export interface Evaluation {
  fresh: boolean;
  /**
   * `--force`: the user wants the work done again (a flaky or
   * non-deterministic command), so the cache must not stand in for it.
   */
  forced: boolean;
  /** Why the node is stale; empty when fresh. */
  reasons: StaleReason[];
  parts: FingerprintParts;
  fingerprint: Fingerprint;
  /** Every triggering input file: declared and selected by the kind. */
  inputFiles: string[];
  /** Why the kind could not select its inputs (NodeFailure from selectInputs): the node cannot run. */
  selectionError?: string;
  /** Files the patterns or selectors matched but left out, one warning line each, printed if the node runs. */
  leftOut: string[];
  /** Literal input paths that do not exist: the node cannot run. */
  missingInputs: string[];
  /** Outputs as they are now, where they differ from what spx.lock records (hand edits). */
  editedOutputs: Record<string, ContentHash>;
  /** Outputs that differ from what spx wrote: new hand edits and ones already recorded. */
  handEdited: string[];
}

export interface EvaluationContext {
  pipeline: LoadedPipeline;
  state: BuildState;
  files: ProjectFiles;
  env: NodeJS.ProcessEnv;
  stateDir: string;
  /** The build's: stops what a kind runs to select its inputs. */
  signal: AbortSignal;
}

/**
 * Computes a node's fingerprint from the current files and the recorded
 * outputs of the nodes it needs (which must have finished), and compares it
 * with spx.lock. Reads no file whose stats the stat cache vouches for.
 */
export async function evaluateNode(node: string, context: EvaluationContext, forced: boolean): Promise<Evaluation> {
  const { pipeline, state, files } = context;
  const config = pipeline.config.nodes[node]!;

  const handler = handlerFor(config);
  const inputs = nameTable<ContentHash>();
  const missingInputs: string[] = [];
  const leftOut = new Set<string>();
  const note = (message: string): void => void leftOut.add(message);
  const inputFiles = files.match(config.inputs, note);
  // A kind that selects files usually hashes them to decide (a context node
  // checks they exist); each is then stat-ed once, not twice.
  const hashed = new Map<string, ContentHash | undefined>();
  const hashFile = (file: string): ContentHash | undefined => {
    if (!hashed.has(file)) hashed.set(file, files.hashFile(file));
    return hashed.get(file);
  };
  let selectionError: string | undefined;
  let selected: string[] = [];
  if (handler.selectInputs) {
    try {
      selected = await handler.selectInputs(config, {
        root: pipeline.root,
        resolver: files.resolver,
        recorded: (name) => state.get(name),
        stateDir: context.stateDir,
        hashFile,
        leftOut: note,
        signal: context.signal,
      });
      const declared = new Set(inputFiles);
      inputFiles.push(...selected.filter((file) => !declared.has(file)));
      inputFiles.sort();
    } catch (error) {
      if (!(error instanceof NodeFailure)) throw error;
      selectionError = error.message;
    }
  }
  // A named file must exist; a glob matches what is there, and a match that
  // is no regular file (a dangling link, a link to a FIFO) is left out, not
  // a permanent "not found".
  const named = new Set([...config.inputs.filter((pattern) => !isGlob(pattern)), ...selected]);
  const usableFiles = inputFiles.filter((file) => {
    const hash = hashFile(file);
    if (hash !== undefined) inputs[file] = hash;
    else if (named.has(file)) missingInputs.push(file);
    else note(`left out ${displayName(file)}: matched by a glob, but not a regular file`);
    return hash !== undefined || named.has(file);
  });
  const needs = nameTable<ContentHash>();
  for (const needed of config.needs) {
    const entry = state.get(needed);
    if (entry) needs[needed] = hashOutputs(entry.outputs);
  }
  const parts: FingerprintParts = {
    kind: config.kind,
    settings: hashSettings(handler.settings(config)),
    inputs,
    needs,
    env: hashEnv(config.env, config.envByValue, context.env),
  };
  const previous = state.get(node);
  const fingerprint = previous && sameParts(previous, parts) ? previous.fingerprint : computeFingerprint(parts);

  const outputs = previous ? checkOutputs(previous, config.outputs, files) : NO_OUTPUT_CHANGES;
  const reasons: StaleReason[] = forced ? [{ reason: 'forced' }] : [];
  if (!forced && (previous?.fingerprint !== fingerprint || outputs.missing.length > 0)) {
    reasons.push(...explainStaleness(previous, parts, outputs.missing));
  }
  for (const file of missingInputs) reasons.push({ reason: 'input-missing', file });
  // Without its selection the fingerprint lists every selected file as removed: say the one thing that matters.
  if (selectionError !== undefined) reasons.splice(0, reasons.length, { reason: 'cannot-select-inputs', message: selectionError });
  return { fresh: reasons.length === 0, forced, reasons, parts, fingerprint, inputFiles: usableFiles, leftOut: [...leftOut], missingInputs, ...(selectionError === undefined ? {} : { selectionError }), editedOutputs: outputs.edited, handEdited: outputs.handEdited };
}

interface OutputCheck {
  missing: OutputProblem[];
  edited: Record<string, ContentHash>;
  handEdited: string[];
}

const NO_OUTPUT_CHANGES: OutputCheck = { missing: [], edited: nameTable(), handEdited: [] };

/**
 * A missing output makes the node stale. A changed one does not: it is a
 * hand edit, kept as the node's output, and it makes the
 * node's dependents stale through their `needs`.
 */
function checkOutputs(previous: LockEntry, outputs: readonly string[], files: ProjectFiles): OutputCheck {
  const check: OutputCheck = { missing: [], edited: nameTable(), handEdited: [] };
  for (const path of outputs) {
    const hash = files.hashOutput(path);
    if (hash === undefined) {
      check.missing.push({ path, problem: 'missing' });
      continue;
    }
    const recorded = ownEntry(previous.outputs, path);
    if (hash !== recorded) check.edited[path] = hash;
    if (hash !== (ownEntry(previous.generated, path) ?? recorded)) check.handEdited.push(path);
  }
  return check;
}
