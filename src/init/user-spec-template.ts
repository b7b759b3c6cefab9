import { readFileSync } from 'node:fs';
import path from 'node:path';
import { SHIPPED_PIPELINES_DIR } from '../config/pipelines.js';
import type { PipelineConfig } from '../config/types.js';

/** The template spx init and spx new write; a spec node sends it to a model as the change wanted. */
export const USER_SPEC_TEMPLATE = path.join(SHIPPED_PIPELINES_DIR, 'USER-SPEC.md');

export interface UntouchedTemplate {
  node: string;
  file: string;
}

/**
 * The inputs of `nodes` that still hold the USER-SPEC.md template as spx
 * wrote it: a model given one would be asked to build "<Title: the change
 * you want…>". Compared by content below the title line (spx new writes the
 * feature's name there), line endings aside, so that any other edit counts
 * as the user's description; only files named USER-SPEC.md are read.
 */
export function untouchedTemplates(config: PipelineConfig, root: string, nodes: readonly string[]): UntouchedTemplate[] {
  const template = normalise(readFileSync(USER_SPEC_TEMPLATE, 'utf8'));
  const found: UntouchedTemplate[] = [];
  for (const node of nodes) {
    const inputs = config.nodes[node]?.inputs ?? [];
    for (const file of inputs.filter((input) => path.posix.basename(input) === 'USER-SPEC.md')) {
      let text: string;
      try {
        text = readFileSync(path.join(root, file), 'utf8');
      } catch {
        continue;
      }
      if (normalise(text) === template) found.push({ node, file });
    }
  }
  return found;
}

/** The text below the title line. */
function normalise(text: string): string {
  return text.replace(/\r\n/g, '\n').replace(/^.*\n/, '').trimEnd();
}
