import type { ClaudeCodeProviderConfig } from '../config/types.js';
import { runProcess } from '../util/child-process.js';
import { checkResult } from './process-answer.js';
import { ProviderError, type Answer, type CallOptions, type Provider } from './provider.js';

/** The part of `claude -p --output-format json`'s result that spx reads. */
interface ClaudeResult {
  type?: string;
  subtype?: string;
  is_error?: boolean;
  result?: string;
  total_cost_usd?: number;
  num_turns?: number;
  usage?: { input_tokens?: number; output_tokens?: number; cache_read_input_tokens?: number; cache_creation_input_tokens?: number };
}

/**
 * Claude Code in headless mode: the prompt on stdin, `--output-format json`
 * so that the answer, its cost, turns and errors are read from one JSON
 * object instead of scraped from text.
 */
export class ClaudeCodeProvider implements Provider {
  constructor(private readonly config: ClaudeCodeProviderConfig & { name: string }) {}

  async generate(prompt: string, options: CallOptions): Promise<Answer> {
    const [program, ...leading] = this.config.command as [string, ...string[]];
    const args = [...leading, '-p', '--output-format', 'json'];
    if (this.config.model) args.push('--model', this.config.model);
    if (options.agent) {
      // Edits are safe to accept: execute nodes run the agent in a scratch
      // worktree, and only a verified patch reaches the user's tree.
      args.push('--permission-mode', this.config.permissionMode ?? 'acceptEdits');
      if (this.config.allowedTools?.length) args.push('--allowedTools', ...this.config.allowedTools);
    }
    options.onProgress(`${program}: working`);
    const result = await runProcess(program, args, {
      cwd: options.cwd,
      signal: options.signal,
      input: prompt,
      timeoutMs: this.config.timeout * 1000,
    });
    const stdout = checkResult(result, program, this.config);
    let parsed: ClaudeResult;
    try {
      parsed = JSON.parse(lastJsonLine(stdout)) as ClaudeResult;
    } catch {
      throw new ProviderError(`provider "${this.config.name}": "${program}" did not print a JSON result (is it Claude Code? it must accept --output-format json)`);
    }
    if (parsed.is_error || (parsed.subtype !== undefined && parsed.subtype !== 'success')) {
      throw new ProviderError(`provider "${this.config.name}": Claude Code reported an error (${parsed.subtype ?? 'error'}): ${parsed.result ?? 'no details'}`);
    }
    if (typeof parsed.result !== 'string') throw new ProviderError(`provider "${this.config.name}": Claude Code's JSON result has no "result" text`);
    const input = (parsed.usage?.input_tokens ?? 0) + (parsed.usage?.cache_read_input_tokens ?? 0) + (parsed.usage?.cache_creation_input_tokens ?? 0);
    const output = parsed.usage?.output_tokens;
    return {
      text: parsed.result,
      usage: {
        ...(parsed.usage ? { promptTokens: input } : {}),
        ...(output === undefined ? {} : { outputTokens: output, totalTokens: input + output }),
        ...(parsed.total_cost_usd === undefined ? {} : { costUsd: parsed.total_cost_usd }),
        ...(parsed.num_turns === undefined ? {} : { turns: parsed.num_turns }),
      },
    };
  }
}

/** `--output-format json` prints one object; tolerate a log line before it. */
function lastJsonLine(stdout: string): string {
  const trimmed = stdout.trim();
  if (trimmed.startsWith('{')) return trimmed;
  const lines = trimmed.split('\n');
  return lines.findLast((line) => line.trim().startsWith('{')) ?? trimmed;
}
