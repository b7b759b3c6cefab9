import { describeExit, type ProcessResult } from '../util/child-process.js';
import { ProviderError } from './provider.js';

/** How much of a failing CLI's stderr is shown. */
const STDERR_TAIL_LINES = 20;

/** The answer on stdout, or an error that says what went wrong and shows the end of stderr. */
export function checkResult(result: ProcessResult, program: string, config: { name: string; timeout: number }, options: { agent?: boolean } = {}): string {
  if (result.interrupted) throw new ProviderError('interrupted');
  if (result.spawnError?.code === 'ENOENT') {
    throw new ProviderError(`provider "${config.name}": the program "${program}" was not found; install it or fix "command" in the provider`);
  }
  if (result.spawnError) throw new ProviderError(`provider "${config.name}": could not start "${program}": ${result.spawnError.message}`);
  if (result.timedOut) throw new ProviderError(`provider "${config.name}": "${program}" gave no answer within ${config.timeout}s (the provider's timeout)`);
  if (result.exitCode !== 0) throw new ProviderError(`provider "${config.name}": "${program}" ${describeExit(result)}${stderrTail(result.stderr)}`);
  // An agent's work is the files it changed; what it says is optional.
  if (result.stdout.trim() === '' && !options.agent) throw new ProviderError(`provider "${config.name}": "${program}" printed no answer${stderrTail(result.stderr)}`);
  return result.stdout;
}

function stderrTail(stderr: string): string {
  const lines = stderr.trimEnd().split('\n').filter((line) => line !== '');
  if (lines.length === 0) return '';
  return `; its stderr ended with:\n${lines.slice(-STDERR_TAIL_LINES).join('\n')}`;
}
