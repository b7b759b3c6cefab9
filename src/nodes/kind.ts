import type { NodeConfig } from '../config/types.js';
import type { InputResolver } from '../files/input-resolver.js';
import type { LockEntry } from '../state/lockfile.js';
import type { ContentHash } from '../util/hash.js';

/** What a node kind is given to choose the files that trigger it. */
export interface SelectionContext {
  root: string;
  resolver: InputResolver;
  /** The recorded state of another node (e.g. the plan whose paths a context bundle follows). */
  recorded(node: string): LockEntry | undefined;
  /** `.spx/` of the project: where a kind may keep what selecting costs to compute. */
  stateDir: string;
  /**
   * A file's content hash through the stat cache (read only when its stats
   * changed), remembered for this evaluation; undefined when it is not a
   * regular file.
   */
  hashFile(path: string): ContentHash | undefined;
  /**
   * Says why a file the selectors matched is not selected, when the user
   * must hear it (it leads outside the project, it is a FIFO): printed as a
   * warning when the node runs. One line; names shown with `displayName`.
   */
  leftOut(message: string): void;
  /** Aborted on Ctrl-C / SIGTERM: a kind that runs a program to select must stop it. */
  signal: AbortSignal;
}

/** What a node kind is given to do its work. */
export interface RunContext {
  root: string;
  node: string;
  /** `.spx/` of the project: logs, scratch space. */
  stateDir: string;
  /** Aborted on Ctrl-C / SIGTERM: the kind must stop its children and return. */
  signal: AbortSignal;
  env: NodeJS.ProcessEnv;
  /** The triggering input files, as the fingerprint saw them (declared and selected). */
  inputFiles: readonly string[];
  /** The files written by the nodes this one needs or uses, in declaration order. */
  dependencyOutputs: readonly { node: string; relation: 'needs' | 'uses'; path: string }[];
  onOutput(stream: 'stdout' | 'stderr', text: string): void;
  /** A one-line progress note (files selected, tokens streamed, …). */
  onProgress(message: string): void;
  /** Something the user should see even in a CI log, that does not fail the node (a retry). */
  onWarning(message: string): void;
}

/**
 * What a run measured, recorded in spx.lock and the cache entry and shown by
 * status: e.g. a bundle's token count, a model call's token usage.
 * Deterministic values only: spx.lock must not churn.
 */
export type RunMetrics = Record<string, number | string>;

/** A node's work failed in a way the user must see: the message says what and what next. */
export class NodeFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NodeFailure';
  }
}

/**
 * One node kind (`run`, `context`, `spec` and `plan`, `execute`; see
 * registry.ts): what of its configuration enters the fingerprint, how it
 * chooses its triggering files, and how it runs.
 */
export interface NodeKindHandler<C extends NodeConfig = NodeConfig> {
  /** Every resolved setting that can change the output; never a secret. */
  settings(config: C): Record<string, unknown>;
  /**
   * Files that trigger the node beyond its declared `inputs` (a context
   * node's selection): their content enters the fingerprint like inputs.
   * Throwing a NodeFailure (a bad git ref, a failing command) makes the
   * node stale, and it fails with that message when it would run.
   */
  selectInputs?(config: C, context: SelectionContext): Promise<string[]>;
  /** One line for the task list. */
  describe(config: C): string;
  run(config: C, context: RunContext): Promise<RunMetrics | void>;
  /**
   * After the outputs were restored from the cache instead of running: the
   * effects beyond the outputs (an execute node applies its patch).
   */
  afterRestore?(config: C, context: RunContext): Promise<void>;
}
