import type { ResolvedProvider } from '../config/types.js';

/** Token counts as the provider reported them (absent when it reports none). */
export interface Usage {
  promptTokens?: number;
  outputTokens?: number;
  totalTokens?: number;
  /** Of the prompt tokens, those served from the provider's context cache (priced at `price.cachedInput`). */
  cachedInputTokens?: number;
  /** Claude Code reports what a call cost. */
  costUsd?: number;
  turns?: number;
}

export interface Answer {
  text: string;
  usage: Usage;
}

export interface CallOptions {
  signal: AbortSignal;
  env: NodeJS.ProcessEnv;
  /** Working directory for CLIs (the project root, or an execute node's worktree). */
  cwd: string;
  onProgress(message: string): void;
  /** A notice for the log: a retry after a rate limit, say. */
  onWarning(message: string): void;
  /**
   * An execute node's call: the provider may edit files in `cwd` (a scratch
   * worktree) without asking. A provider that cannot act refuses.
   */
  agent?: boolean;
}

/** A model or agent back end: one prompt in, one answer out. */
export interface Provider {
  generate(prompt: string, options: CallOptions): Promise<Answer>;
}

/**
 * A provider's failure, worded for the user: what happened and what to do.
 * Its message never holds a secret.
 */
export class ProviderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProviderError';
  }
}

/**
 * The settings of a provider that can change its answers, for fingerprints:
 * type, model, generation parameters, the CLI run. Not the name (renaming a
 * provider changes no answer), the key's variable, the endpoint or timeouts.
 */
export function providerFingerprintSettings(provider: ResolvedProvider): Record<string, unknown> {
  switch (provider.type) {
    case 'gemini': {
      const { type, model, temperature, topP, topK, maxOutputTokens } = provider;
      return { type, model, temperature, topP, topK, maxOutputTokens };
    }
    case 'command':
      return { type: provider.type, command: provider.command, promptVia: provider.promptVia };
    case 'claude-code':
      return { type: provider.type, model: provider.model, command: provider.command };
    case 'echo':
      return { type: provider.type };
  }
}
