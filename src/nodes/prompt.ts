import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { PromptNodeConfig } from '../config/types.js';
import { createProvider } from '../providers/create-provider.js';
import { providerFingerprintSettings, ProviderError } from '../providers/provider.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { NodeFailure, type NodeKindHandler, type RunContext, type RunMetrics } from './kind.js';
import { inputsBesideInstruction, instructionFiles, instructionSetting, instructionText } from './instructions.js';
import { assemblePrompt, type PromptSection } from './prompt-assembly.js';

/**
 * `spec` and `plan`: an instruction plus the node's inputs, needed outputs
 * and used bundles → one model answer, written whole to `output`.
 */
export const promptKind: NodeKindHandler<PromptNodeConfig> = {
  settings(config) {
    return {
      instruction: instructionSetting(config),
      provider: providerFingerprintSettings(config.provider),
      output: config.output,
    };
  },

  async selectInputs(config) {
    return instructionFiles(config);
  },

  describe(config) {
    const model = 'model' in config.provider && config.provider.model ? ` ${config.provider.model}` : '';
    return `${config.provider.name}${model} → ${config.output}`;
  },

  async run(config, context) {
    const sections = promptSections(config, context);
    const prompt = assemblePrompt(instructionText(config, context.root), sections, context.root);
    // The exact prompt sent, for the user to inspect when an answer surprises.
    const promptLog = join(context.stateDir, 'prompts', `${context.node}.md`);
    mkdirSync(dirname(promptLog), { recursive: true });
    writeFileSync(promptLog, prompt);
    context.onProgress(`prompt: ${prompt.length} characters in ${sections.length} sections`);

    const provider = await createProvider(config.provider);
    let answer;
    try {
      answer = await provider.generate(prompt, { signal: context.signal, env: context.env, cwd: context.root, onProgress: context.onProgress, onWarning: context.onWarning });
    } catch (error) {
      if (error instanceof ProviderError) throw new NodeFailure(error.message);
      throw error;
    }
    if (answer.text.trim() === '') throw new NodeFailure(`provider "${config.provider.name}" returned an empty answer`);
    writeFileAtomic(join(context.root, config.output), answer.text.endsWith('\n') ? answer.text : answer.text + '\n');

    const metrics: RunMetrics = { provider: config.provider.type };
    if ('model' in config.provider && config.provider.model) metrics.model = config.provider.model;
    for (const [key, value] of Object.entries(answer.usage)) if (value !== undefined) metrics[key] = value;
    return metrics;
  },
};

/**
 * The files a spec or plan node's prompt holds, in order: its inputs, then
 * what the nodes it needs and uses wrote. The cost forecast assembles the
 * same prompt from them (src/cost/forecast.ts).
 */
export function promptSections(config: PromptNodeConfig, context: Pick<RunContext, 'inputFiles' | 'dependencyOutputs'>): PromptSection[] {
  return [
    ...inputsBesideInstruction(config, context.inputFiles).map((path) => ({ role: 'input' as const, path })),
    ...context.dependencyOutputs.map(({ node, relation, path }) => ({ role: relation, node, path })),
  ];
}
