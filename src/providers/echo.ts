import { hashBytes } from '../util/hash.js';
import { parsePrompt } from '../util/prompt-sections.js';
import type { Answer, Provider } from './provider.js';

/**
 * Offline and deterministic: the same prompt always gives the same answer,
 * which says plainly that no model wrote it, so that a rehearsal's output is
 * never mistaken for a real spec or plan.
 */
export class EchoProvider implements Provider {
  async generate(prompt: string): Promise<Answer> {
    const { instruction, labels } = parsePrompt(prompt);
    const text = [
      '<!-- spx rehearse provider: offline rehearsal. No model was called; this is not a real answer. -->',
      '# Rehearsal answer (rehearse provider)',
      '',
      `Prompt: ${prompt.length} characters, sha256 ${hashBytes(prompt).slice(0, 16)}.`,
      '',
      '## Instruction received',
      '',
      instruction.split('\n').slice(0, 5).join('\n'),
      '',
      '## Sections received',
      '',
      ...(labels.length > 0 ? labels.map((label) => `- ${label}`) : ['- (none)']),
      '',
    ].join('\n');
    return { text, usage: {} };
  }
}
