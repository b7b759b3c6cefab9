import { readFileSync } from 'node:fs';
import type { ExecuteNodeConfig, PromptNodeConfig } from '../config/types.js';
import { readForPrompt } from './prompt-assembly.js';

/** A node that is given an instruction: spec, plan, execute. */
type InstructedConfig = Pick<PromptNodeConfig | ExecuteNodeConfig, 'kind' | 'prompt' | 'promptFile'>;

/** The default instructions ship with spx, beside the ready pipelines. */
const DEFAULT_PROMPTS = new URL('../../pipelines/prompts/', import.meta.url);
const defaults = new Map<string, string>();

/**
 * The instruction as the fingerprint sees it: a `promptFile` enters through
 * `instructionFiles` (by content hash, like an input); an inline or default
 * instruction enters as its text.
 */
export function instructionSetting(config: InstructedConfig): string | { file: string } {
  return config.promptFile === undefined ? inlineOrDefault(config) : { file: config.promptFile };
}

/** The instruction's file, when it has one: a triggering input of the node. */
export function instructionFiles(config: InstructedConfig): string[] {
  return config.promptFile === undefined ? [] : [config.promptFile];
}

/** The instruction's text: spx.yaml's `prompt`, the `promptFile` as it is now, or the kind's default. */
export function instructionText(config: InstructedConfig, root: string): string {
  return config.promptFile === undefined ? inlineOrDefault(config) : readForPrompt(root, config.promptFile, 'promptFile');
}

/** The node's input files other than its instruction file: the prompt's input sections. */
export function inputsBesideInstruction(config: InstructedConfig, inputFiles: readonly string[]): string[] {
  return inputFiles.filter((file) => file !== config.promptFile);
}

function inlineOrDefault(config: InstructedConfig): string {
  if (config.prompt !== undefined) return config.prompt;
  let text = defaults.get(config.kind);
  if (text === undefined) {
    text = readFileSync(new URL(`${config.kind}.md`, DEFAULT_PROMPTS), 'utf8');
    defaults.set(config.kind, text);
  }
  return text;
}
