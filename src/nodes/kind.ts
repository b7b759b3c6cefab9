import type { NodeConfig } from '../config/types.js';

/** What a node kind is given to do its work. */
export interface RunContext {
  root: string;
  node: string;
  /** Aborted on Ctrl-C / SIGTERM: the kind must stop its children and return. */
  signal: AbortSignal;
  onOutput(stream: 'stdout' | 'stderr', text: string): void;
}

/** A node's work failed in a way the user must see: the message says what and what next. */
export class NodeFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NodeFailure';
  }
}

/**
 * One node kind (`run` now; `context`, `spec`, `plan`, `execute` later):
 * what of its configuration enters the fingerprint, and how it runs.
 */
export interface NodeKindHandler<C extends NodeConfig = NodeConfig> {
  /** Every resolved setting that can change the output; never a secret. */
  settings(config: C): Record<string, unknown>;
  /** One line for the task list. */
  describe(config: C): string;
  run(config: C, context: RunContext): Promise<void>;
}
