import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** One file placed in a prompt, and why it is there. */
export interface PromptSection {
  /** input: a triggering file; needs: a needed node's output; uses: a used bundle (order-only). */
  role: 'input' | 'needs' | 'uses';
  path: string;
  /** For needs and uses: the node that wrote it. */
  node?: string;
}

/**
 * The instruction, then every file in a clearly delimited section that
 * names its path, so that the model can tell them apart and cite them.
 * The markers are unlikely in source code and easy to spot in a log.
 */
export function assemblePrompt(instruction: string, sections: readonly PromptSection[], root: string): string {
  const parts = [instruction.trim(), ''];
  for (const section of sections) {
    const label = `${section.role === 'input' ? 'input' : `${section.role} ${section.node}`}: ${section.path}`;
    let content = readFileSync(join(root, section.path), 'utf8');
    if (!content.endsWith('\n')) content += '\n';
    parts.push(`<<<< BEGIN ${label} >>>>`, content + `<<<< END ${label} >>>>`, '');
  }
  return parts.join('\n');
}
