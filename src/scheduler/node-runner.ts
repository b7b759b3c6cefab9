import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { LoadedPipeline } from '../config/types.js';
import type { Cache, CacheEntry, CachedFile } from '../cache/cache.js';
import { fileMode, hashOutputFiles, isDirectoryOutput, listFilesBelow, outputFiles } from '../files/output-hash.js';
import { escapingLink } from '../files/escaping-link.js';
import type { InputResolver } from '../files/input-resolver.js';
import { NodeFailure, type RunContext, type RunMetrics } from '../nodes/kind.js';
import { handlerFor } from '../nodes/registry.js';
import { backUpOutput } from '../state/backups.js';
import type { BuildState } from '../state/build-state.js';
import type { LockEntry } from '../state/lockfile.js';
import type { StatCache } from '../state/stat-cache.js';
import type { ContentHash } from '../util/hash.js';
import { nameTable } from '../util/name-table.js';
import { CACHE_FORMAT } from '../cache/cache.js';
import { appendToLedger } from '../cost/ledger.js';
import { ledgerLineFor } from '../cost/ledger-line.js';
import type { Evaluation } from './evaluate.js';
import type { EventSink, FailureReason } from './events.js';
import { removeWhatTheRunWrote, snapshotOutputs, type OutputSnapshot } from './interrupted-outputs.js';
import { OutputBuffer } from './output-buffer.js';
import { spendsNoTokens } from '../config/token-kinds.js';
import { roundSeconds } from '../util/round-seconds.js';

export interface NodeRunnerContext {
  pipeline: LoadedPipeline;
  stateDir: string;
  state: BuildState;
  statCache: StatCache;
  resolver: InputResolver;
  /** Undefined with --no-cache. */
  cache: Cache | undefined;
  /** --cache-only: a model or agent node missing from the cache fails instead of running. */
  cacheOnly: boolean;
  signal: AbortSignal;
  env: NodeJS.ProcessEnv;
  emit: EventSink;
}

export type NodeOutcome = 'ran' | 'restored' | 'failed' | 'interrupted';

/**
 * Brings one stale node up to date: backs up hand edits, then restores its
 * outputs from the cache when its fingerprint is there, or runs it and
 * stores what it wrote. Either way the result is recorded in spx.lock.
 */
export async function regenerateNode(node: string, evaluation: Evaluation, context: NodeRunnerContext): Promise<NodeOutcome> {
  const { pipeline, emit } = context;
  const config = pipeline.config.nodes[node]!;
  const started = performance.now();
  const elapsed = (): number => roundSeconds((performance.now() - started) / 1000);
  const output = new OutputBuffer();
  let beforeRun: OutputSnapshot | undefined;
  try {
    // Without its inputs the fingerprint means nothing: neither restore nor run.
    if (evaluation.selectionError !== undefined) throw new CannotRun({ reason: 'selection', message: evaluation.selectionError });
    refuseEscapingOutputs(config.outputs, pipeline.root);
    for (const message of evaluation.leftOut) emit({ type: 'warning', node, message });
    backUpHandEdits(node, evaluation, context);
    const handler = handlerFor(config);
    const runContext: RunContext = {
      root: pipeline.root,
      node,
      stateDir: context.stateDir,
      signal: context.signal,
      env: context.env,
      inputFiles: evaluation.inputFiles,
      dependencyOutputs: dependencyOutputs(node, context.pipeline),
      onOutput: (stream, text) => {
        output.append(text);
        emit({ type: 'output', node, stream, text });
      },
      onProgress: (message) => emit({ type: 'progress', node, message }),
      onWarning: (message) => emit({ type: 'warning', node, message }),
    };
    if (!evaluation.forced && (await tryRestore(node, evaluation, context, runContext, output))) return 'restored';
    if (context.cacheOnly && !spendsNoTokens(config.kind)) throw new CannotRun({ reason: 'cache-miss' });
    if (evaluation.missingInputs.length > 0) throw new CannotRun({ reason: 'missing-input', files: evaluation.missingInputs });

    emit({ type: 'start', node, reasons: evaluation.reasons, description: handler.describe(config) });
    beforeRun = snapshotOutputs(pipeline.root, config.outputs);
    const metrics = await handler.run(config, runContext);
    context.resolver.invalidate();
    const entry = { ...collectOutputs(node, context), ...(metrics ? { metrics } : {}) };
    const seconds = elapsed();
    record(node, evaluation, entry, context);
    storeInCache(node, evaluation, { ...entry, cost: { seconds } }, context);
    emit({ type: 'success', node, seconds, output: output.text(), metrics: metrics ?? {} });
    recordInLedger(node, metrics ?? {}, false, context);
    return 'ran';
  } catch (error) {
    if (context.signal.aborted) {
      if (beforeRun) removeHalfWritten(node, beforeRun, context);
      return 'interrupted';
    }
    emit({ type: 'failure', node, ...failureReason(error), output: output.text(), seconds: elapsed() });
    return 'failed';
  }
}

/** A node the scheduler finds it cannot run, for a reason it keeps as data. */
class CannotRun extends Error {
  constructor(readonly reason: FailureReason) {
    super(reason.reason);
  }
}

function failureReason(error: unknown): FailureReason {
  if (error instanceof CannotRun) return error.reason;
  if (error instanceof NodeFailure) return { reason: 'node-failure', message: error.message };
  return { reason: 'internal', message: String(error) };
}

function removeHalfWritten(node: string, before: OutputSnapshot, context: NodeRunnerContext): void {
  const { pipeline, state } = context;
  const declared = pipeline.config.nodes[node]!.outputs;
  for (const output of removeWhatTheRunWrote(pipeline.root, declared, before, state.get(node) !== undefined)) {
    context.emit({ type: 'warning', node, message: `removed ${output}: the interrupted command had begun to write it` });
  }
  context.resolver.invalidate();
}

/** The files the nodes this one needs or uses wrote, directory outputs expanded (the cost forecast reads them too). */
export function dependencyOutputs(node: string, pipeline: LoadedPipeline): { node: string; relation: 'needs' | 'uses'; path: string }[] {
  const config = pipeline.config.nodes[node]!;
  const files: { node: string; relation: 'needs' | 'uses'; path: string }[] = [];
  for (const relation of ['needs', 'uses'] as const) {
    for (const dependency of config[relation]) {
      for (const declared of pipeline.config.nodes[dependency]!.outputs) {
        const paths = isDirectoryOutput(declared) ? (listFilesBelow(pipeline.root, declared.slice(0, -1)) ?? []) : [declared];
        for (const path of paths) files.push({ node: dependency, relation, path });
      }
    }
  }
  return files;
}

/**
 * Before an output is backed up, deleted, restored or written: none may
 * lead through a link out of the project, where spx would act on files
 * that are not the project's.
 */
function refuseEscapingOutputs(outputs: readonly string[], root: string): void {
  for (const declared of outputs) {
    const escape = escapingLink(root, declared);
    if (escape) {
      throw new NodeFailure(
        `output ${declared} leads through the symlink ${escape.link} to ${escape.target}, outside the project; ` +
          'spx writes only inside it (remove the link, or run the command outside spx)',
      );
    }
  }
}

function backUpHandEdits(node: string, evaluation: Evaluation, context: NodeRunnerContext): void {
  const { pipeline, stateDir, state, statCache } = context;
  const previous = state.get(node);
  for (const declared of pipeline.config.nodes[node]!.outputs) {
    // Anything spx did not write itself is precious: a known hand edit, or
    // a file that was there before the node was ever recorded (a plan
    // written by hand). A directory of unknown origin is left alone: it is
    // a build directory far more often than a human's work.
    const why = previous
      ? evaluation.handEdited.includes(declared) && 'edited'
      : !isDirectoryOutput(declared) && outputFiles(statCache, pipeline.root, declared) !== undefined && 'unrecorded';
    if (!why) continue;
    const backup = backUpOutput(pipeline.root, stateDir, node, declared);
    if (backup) context.emit({ type: 'backup', node, output: declared, backup, why });
  }
}

async function tryRestore(
  node: string,
  evaluation: Evaluation,
  context: NodeRunnerContext,
  runContext: RunContext,
  output: OutputBuffer,
): Promise<boolean> {
  const { cache, pipeline, statCache, emit } = context;
  if (!cache) return false;
  let entry = cache.lookup(evaluation.fingerprint);
  if (!entry && cache.fetch) {
    const fetched = await cache.fetch(evaluation.fingerprint, pipeline.config.nodes[node]!.outputs);
    if (fetched.problem) emit({ type: 'warning', node, message: `${fetched.problem}; running instead` });
    entry = fetched.entry;
  }
  if (!entry) return false;
  const result = cache.restore(evaluation.fingerprint, entry, pipeline.root, pipeline.config.nodes[node]!.outputs);
  if (!result.ok) {
    emit({ type: 'warning', node, message: `cache entry unusable, running instead: ${result.problem}` });
    return false;
  }
  // What was checked, not what was read: no stray metrics reach spx.lock.
  entry = result.entry;
  for (const output of Object.values(entry.outputs)) {
    for (const file of output.files) statCache.forget(file.path);
  }
  context.resolver.invalidate();
  const config = pipeline.config.nodes[node]!;
  try {
    await handlerFor(config).afterRestore?.(config, runContext);
  } catch (error) {
    // Unrecorded outputs left on disk would pass for a human's files next
    // time; what was restored goes again (anything there before was backed up).
    for (const output of Object.values(entry.outputs)) {
      for (const file of output.files) rmSync(join(pipeline.root, file.path), { force: true });
    }
    throw error;
  }
  record(node, evaluation, entry, context);
  // What restoring did beyond writing outputs (an execute node applying its
  // patch to the user's tree) is said, as a run's output is.
  emit({ type: 'restored', node, reasons: evaluation.reasons, savedSeconds: roundSeconds(entry.cost.seconds), metrics: entry.metrics ?? {}, output: output.text() });
  recordInLedger(node, entry.metrics ?? {}, true, context);
  return true;
}

/** A model or agent node's call (or the call a restore spared) as a line of .spx/ledger.jsonl; never its prompt or a key. */
function recordInLedger(node: string, metrics: RunMetrics, cached: boolean, context: NodeRunnerContext): void {
  const config = context.pipeline.config.nodes[node]!;
  if (!('provider' in config)) return;
  try {
    appendToLedger(context.stateDir, ledgerLineFor(node, config.provider, metrics, cached, new Date()));
  } catch (error) {
    // The node is built and recorded; a ledger that cannot be written loses a line, not the build.
    context.emit({ type: 'warning', node, message: `could not write to the ledger: ${(error as Error).message}` });
  }
}

/** Hashes what the node wrote; a declared output it did not write fails it. */
function collectOutputs(node: string, context: NodeRunnerContext): Omit<CacheEntry, 'cost'> {
  const { pipeline, statCache } = context;
  const outputs: CacheEntry['outputs'] = nameTable();
  for (const declared of pipeline.config.nodes[node]!.outputs) {
    const files = outputFiles(statCache, pipeline.root, declared);
    if (files === undefined) throw new NodeFailure(`the command succeeded but did not write the declared output ${declared}`);
    const cached: CachedFile[] = files.map((file) => ({ ...file, mode: fileMode(pipeline.root, file.path) }));
    outputs[declared] = { hash: isDirectoryOutput(declared) ? hashOutputFiles(files) : files[0]!.hash, files: cached };
  }
  return { format: CACHE_FORMAT, outputs };
}

function record(node: string, evaluation: Evaluation, entry: Omit<CacheEntry, 'cost'>, context: NodeRunnerContext): void {
  const outputs = nameTable<ContentHash>();
  for (const [declared, output] of Object.entries(entry.outputs)) outputs[declared] = output.hash;
  context.state.record(node, lockEntryFor(evaluation, outputs, context.state.get(node), entry.metrics));
}

/** What spx.lock records for a node brought up to date with these outputs. */
export function lockEntryFor(
  evaluation: Evaluation,
  outputs: Record<string, ContentHash>,
  previous: LockEntry | undefined,
  metrics: RunMetrics | undefined,
): LockEntry {
  const lockEntry: LockEntry = { fingerprint: evaluation.fingerprint, ...evaluation.parts, outputs };
  if (metrics) lockEntry.metrics = metrics;
  // An approval is of content: output regenerated byte for byte stays approved.
  if (previous?.approved) lockEntry.approved = previous.approved;
  if (previous?.approvedOutputs) lockEntry.approvedOutputs = previous.approvedOutputs;
  return lockEntry;
}

function storeInCache(node: string, evaluation: Evaluation, entry: CacheEntry, context: NodeRunnerContext): void {
  if (!context.cache) return;
  try {
    context.cache.store(evaluation.fingerprint, entry, context.pipeline.root);
  } catch (error) {
    // The outputs are built and recorded; a cache that cannot take them
    // costs a rerun some day, not this build.
    context.emit({ type: 'warning', node, message: `could not store outputs in the cache: ${(error as Error).message}` });
  }
}
