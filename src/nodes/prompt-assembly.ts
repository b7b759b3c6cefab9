import { readProjectFile, RefusedFile } from '../files/project-boundary.js';
import { layOutPrompt, type LaidOutSection } from '../util/prompt-sections.js';
import { NodeFailure } from './kind.js';

/** One file placed in a prompt, and why it is there. */
export interface PromptSection {
  /** input: a triggering file; needs: a needed node's output; uses: a used bundle (order-only). */
  role: 'input' | 'needs' | 'uses';
  path: string;
  /** For needs and uses: the node that wrote it. */
  node?: string;
}

/**
 * The instruction, then every file in a section labelled with its role and
 * path (laid out as prompt-sections.ts says).
 *
 * A file named inside the project whose real path is outside (a committed
 * symlink to `~/.ssh/config`), or that is not a regular file, fails the
 * node rather than being left out: the prompt would silently lack what
 * spx.yaml says it holds, and the model would answer without it.
 */
export function assemblePrompt(instruction: string, sections: readonly PromptSection[], root: string): string {
  return layOutPrompt(instruction, readSections(sections, root));
}

/** Each section's label and text, as the prompt lays them out (the cost forecast counts them one by one). */
export function readSections(sections: readonly PromptSection[], root: string): LaidOutSection[] {
  return sections.map((section) => ({
    label: `${section.role === 'input' ? 'input' : `${section.role} ${section.node}`}: ${section.path}`,
    content: readForPrompt(root, section.path, section.role === 'input' ? 'input' : `output of "${section.node}"`),
  }));
}

/** A file's text for a prompt; a refusal says which file and why, as a node failure. */
export function readForPrompt(root: string, path: string, what: string): string {
  try {
    return readProjectFile(root, path).toString('utf8');
  } catch (error) {
    if (error instanceof RefusedFile) throw new NodeFailure(`${what} ${error.message}`);
    throw error;
  }
}
