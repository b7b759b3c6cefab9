import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CommandProviderConfig } from '../config/types.js';
import { runProcess, type ProcessResult } from '../util/child-process.js';
import { ProviderError, type Answer, type CallOptions, type Provider } from './provider.js';

/** How much of a failing CLI's stderr is shown. */
const STDERR_TAIL_LINES = 20;

/**
 * Any CLI that takes a prompt and answers on stdout: `gemini -p`,
 * `claude -p`, `llm`, `ollama run MODEL`. The prompt goes on stdin, as the
 * last argument, or as the path of a temp file.
 */
export class CommandProvider implements Provider {
  constructor(private readonly config: CommandProviderConfig & { name: string }) {}

  async generate(prompt: string, options: CallOptions): Promise<Answer> {
    const [program, ...args] = this.config.command as [string, ...string[]];
    let tempDir: string | undefined;
    let input: string | undefined;
    if (this.config.promptVia === 'stdin') input = prompt;
    else if (this.config.promptVia === 'argument') args.push(prompt);
    else {
      tempDir = mkdtempSync(join(tmpdir(), 'spx-prompt-'));
      const file = join(tempDir, 'prompt.md');
      writeFileSync(file, prompt);
      args.push(file);
    }
    try {
      options.onProgress(`${program}: waiting for the answer`);
      const result = await runProcess(program, args, {
        cwd: options.cwd,
        signal: options.signal,
        input,
        timeoutMs: this.config.timeout * 1000,
      });
      return { text: checkResult(result, program, this.config, options), usage: {} };
    } finally {
      if (tempDir) rmSync(tempDir, { recursive: true, force: true });
    }
  }
}

/** The answer on stdout, or an error that says what went wrong and shows the end of stderr. */
export function checkResult(result: ProcessResult, program: string, config: { name: string; timeout: number }, options: { agent?: boolean } = {}): string {
  if (result.interrupted) throw new ProviderError('interrupted');
  if (result.spawnError?.code === 'ENOENT') {
    throw new ProviderError(`provider "${config.name}": the program "${program}" was not found; install it or fix "command" in the provider`);
  }
  if (result.spawnError) throw new ProviderError(`provider "${config.name}": could not start "${program}": ${result.spawnError.message}`);
  if (result.timedOut) throw new ProviderError(`provider "${config.name}": "${program}" gave no answer within ${config.timeout}s (the provider's timeout)`);
  if (result.exitCode !== 0) {
    const how = result.signal ? `was killed by ${result.signal}` : `exited with code ${result.exitCode}`;
    throw new ProviderError(`provider "${config.name}": "${program}" ${how}${stderrTail(result.stderr)}`);
  }
  // An agent's work is the files it changed; what it says is optional.
  if (result.stdout.trim() === '' && !options.agent) throw new ProviderError(`provider "${config.name}": "${program}" printed no answer${stderrTail(result.stderr)}`);
  return result.stdout;
}

function stderrTail(stderr: string): string {
  const lines = stderr.trimEnd().split('\n').filter((line) => line !== '');
  if (lines.length === 0) return '';
  return `; its stderr ended with:\n${lines.slice(-STDERR_TAIL_LINES).join('\n')}`;
}
