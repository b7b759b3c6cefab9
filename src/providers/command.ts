import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CommandProviderConfig } from '../config/types.js';
import { runProcess } from '../util/child-process.js';
import { checkResult } from './process-answer.js';
import { ProviderError, type Answer, type CallOptions, type Provider } from './provider.js';

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
