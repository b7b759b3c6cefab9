import type { RunNodeConfig } from '../config/types.js';
import { describeExit } from '../util/child-process.js';
import { runShellCommand } from '../util/shell.js';
import { NodeFailure, type NodeKindHandler } from './kind.js';

/** The Makefile recipe: a shell command with declared inputs and outputs. */
export const runKind: NodeKindHandler<RunNodeConfig> = {
  settings(config) {
    // Inputs and needs enter the fingerprint by content, not as settings:
    // a glob rewritten to match the same files changes nothing.
    return { command: config.command, outputs: config.outputs };
  },

  describe(config) {
    return config.command;
  },

  async run(config, context) {
    const result = await runShellCommand(config.command, {
      cwd: context.root,
      signal: context.signal,
      env: { SPX_NODE: context.node },
      onOutput: context.onOutput,
    });
    if (result.interrupted) throw new NodeFailure('interrupted');
    if (result.exitCode !== 0) throw new NodeFailure(`command ${describeExit(result)}: ${config.command}`);
  },
};
