import type { LoadedPipeline } from '../config/types.js';
import type { PromptSection } from '../nodes/prompt-assembly.js';
import type { LockEntry } from '../state/lockfile.js';
import type { ContentHash } from '../util/hash.js';
import { layOutPrompt, type LaidOutSection } from '../util/prompt-sections.js';
import { TOKEN_ENCODING, type TokenCounts } from './token-count.js';

/** A section's label and text, with the text's content hash, computed once however many prompts hold it. */
export interface PromptText extends LaidOutSection {
  hash(): ContentHash;
}

/**
 * The tokens of a prompt laid out by `layOutPrompt`, counted piece by
 * piece: the instruction and markers, then each file. A file counted
 * before (a context bundle that spec and plan both hold, or that an
 * earlier forecast saw) is not read by the tokenizer again, and a bundle
 * repomix counted when it packed it (its `tokens` metric, same encoding,
 * same bytes) is not counted at all. The sum differs from counting the
 * whole prompt by a token or two per section, where pieces meet.
 */
export async function countPromptTokens(
  instruction: string,
  sections: readonly PromptSection[],
  texts: readonly PromptText[],
  counts: TokenCounts,
  context: { pipeline: LoadedPipeline; recorded: (node: string) => LockEntry | undefined },
): Promise<number> {
  let total = await counts.count(layOutPrompt(instruction, texts.map(({ label }) => ({ label, content: '' }))));
  for (const [i, text] of texts.entries()) {
    total += countedByRepomix(sections[i]!, text, context) ?? (await counts.count(text.content, text.hash()));
  }
  return total;
}

/** A context node's bundle, unchanged since it was packed: the count repomix recorded. */
function countedByRepomix(section: PromptSection, text: PromptText, context: { pipeline: LoadedPipeline; recorded: (node: string) => LockEntry | undefined }): number | undefined {
  if (section.node === undefined) return undefined;
  const producer = context.pipeline.config.nodes[section.node];
  if (producer?.kind !== 'context' || producer.repomix.tokenEncoding !== TOKEN_ENCODING) return undefined;
  const entry = context.recorded(section.node);
  const tokens = entry?.metrics?.tokens;
  if (typeof tokens !== 'number' || entry!.outputs[section.path] !== text.hash()) return undefined;
  return tokens;
}
