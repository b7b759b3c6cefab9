import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ExecuteNodeConfig, LoadedPipeline, PromptNodeConfig } from '../config/types.js';
import { instructionText } from '../nodes/instructions.js';
import { NodeFailure } from '../nodes/kind.js';
import { readSections, type PromptSection } from '../nodes/prompt-assembly.js';
import { promptSections } from '../nodes/prompt.js';
import type { LockEntry } from '../state/lockfile.js';
import { hashBytes, type ContentHash } from '../util/hash.js';
import { layOutPrompt } from '../util/prompt-sections.js';
import type { Estimate, NodeEstimate } from './estimate.js';
import { recordedUse } from './history.js';
import { readLedger, type LedgerLine } from './ledger.js';
import { costOf, priceOf } from './price.js';
import { countPromptTokens, type PromptText } from './prompt-tokens.js';
import { TokenCounts } from './token-count.js';

/** The answer's expected length when neither the node's history nor its provider's maxOutputTokens says. */
export const DEFAULT_OUTPUT_TOKENS = 4_000;

/** What a stale node's prompt would be assembled from, as the run would see it. */
export interface ForecastInputs {
  /** The triggering input files, as the fingerprint saw them. */
  inputFiles: readonly string[];
  /** What the nodes it needs and uses wrote (or will write), in declaration order. */
  dependencyOutputs: readonly { node: string; relation: 'needs' | 'uses'; path: string }[];
  /** A node it needs or uses will run first: its output is counted as it is now. */
  upstreamWillRun: boolean;
}

export interface ForecastOptions {
  /** Asks a provider that can count (Gemini's countTokens) instead of counting offline. */
  exact?: { env: NodeJS.ProcessEnv; signal: AbortSignal };
}

/**
 * Estimates what each stale model node of a build will use, from the prompt
 * it would send today and its recorded runs. Nothing is sent anywhere
 * unless `exact` asks.
 */
export class Forecaster {
  private ledger: LedgerLine[] | undefined;
  private readonly counts: TokenCounts;
  /** Each section read once, its hash taken once: spec and plan both hold the context bundle, megabytes long. */
  private readonly texts = new Map<string, PromptText>();

  constructor(
    private readonly pipeline: LoadedPipeline,
    private readonly stateDir: string,
    private readonly recorded: (node: string) => LockEntry | undefined,
    private readonly options: ForecastOptions = {},
  ) {
    this.counts = TokenCounts.load(stateDir);
  }

  /** The node's estimate; undefined for a node that calls no model. */
  async estimate(node: string, inputs: ForecastInputs): Promise<NodeEstimate | undefined> {
    const config = this.pipeline.config.nodes[node]!;
    if (config.kind === 'spec' || config.kind === 'plan') return this.promptEstimate(node, config, inputs);
    if (config.kind === 'execute') return this.agentEstimate(node, config);
    return undefined;
  }

  /** Keeps what was counted for the next forecast. */
  save(): void {
    this.counts.save();
  }

  private async promptEstimate(node: string, config: PromptNodeConfig, inputs: ForecastInputs): Promise<NodeEstimate> {
    const root = this.pipeline.root;
    // An upstream that never ran has no output yet: its section is left out, and the estimate says it is approximate.
    const present = inputs.dependencyOutputs.filter((output) => existsSync(join(root, output.path)));
    const sections = promptSections(config, { inputFiles: inputs.inputFiles, dependencyOutputs: present });
    let instruction: string;
    let texts: PromptText[];
    try {
      instruction = instructionText(config, root);
      texts = sections.map((section) => this.read(section));
    } catch (error) {
      // The run would fail the same way (a missing input, a link out of the project); the build says so then.
      if (error instanceof NodeFailure) return { unknown: `the prompt cannot be assembled: ${error.message}` };
      throw error;
    }
    const exact = await this.exactCount(config, () => layOutPrompt(instruction, texts));
    const inputTokens = exact ?? (await countPromptTokens(instruction, sections, texts, this.counts, { pipeline: this.pipeline, recorded: this.recorded }));
    const { outputTokens, outputFrom } = this.expectedOutput(node, config);
    const estimate: Estimate = { inputTokens, outputTokens, inputFrom: exact === undefined ? 'counted' : 'provider', outputFrom };
    if (inputs.upstreamWillRun || present.length < inputs.dependencyOutputs.length) estimate.approximate = true;
    return priced(estimate, config);
  }

  private read(section: PromptSection): PromptText {
    const key = JSON.stringify([section.role, section.node, section.path]);
    let text = this.texts.get(key);
    if (!text) {
      const [{ label, content }] = readSections([section], this.pipeline.root) as [{ label: string; content: string }];
      let hash: ContentHash | undefined;
      text = { label, content, hash: () => (hash ??= hashBytes(content)) };
      this.texts.set(key, text);
    }
    return text;
  }

  /** An agent's prompt is the start of a conversation of unknown length: only its recorded runs tell. */
  private agentEstimate(node: string, config: ExecuteNodeConfig): NodeEstimate {
    const use = recordedUse(node, this.readLedger(), this.recorded(node));
    if (!use) return { unknown: 'an agent that has not run here yet: its use is known only from recorded runs' };
    const estimate: Estimate = { inputTokens: use.inputTokens, outputTokens: use.outputTokens, inputFrom: 'history', outputFrom: 'history' };
    // An agent's own account of its cost (Claude Code's) beats tokens times a price.
    return use.costUsd === undefined ? priced(estimate, config) : { ...estimate, costUsd: use.costUsd };
  }

  private expectedOutput(node: string, config: PromptNodeConfig): Pick<Estimate, 'outputTokens' | 'outputFrom'> {
    const use = recordedUse(node, this.readLedger(), this.recorded(node));
    if (use && use.outputTokens > 0) return { outputTokens: use.outputTokens, outputFrom: 'history' };
    const cap = config.provider.type === 'gemini' ? config.provider.maxOutputTokens : undefined;
    if (cap !== undefined) return { outputTokens: cap, outputFrom: 'maxOutputTokens' };
    return { outputTokens: DEFAULT_OUTPUT_TOKENS, outputFrom: 'default' };
  }

  /** The provider's own count, with --exact; the prompt is laid out whole only then. */
  private async exactCount(config: PromptNodeConfig, prompt: () => string): Promise<number | undefined> {
    if (!this.options.exact || config.provider.type !== 'gemini') return undefined;
    const { countGeminiTokens } = await import('../providers/gemini-count.js');
    return countGeminiTokens({ ...config.provider, name: config.provider.name }, prompt(), this.options.exact.env, this.options.exact.signal);
  }

  private readLedger(): LedgerLine[] {
    this.ledger ??= readLedger(this.stateDir);
    return this.ledger;
  }
}

function priced(estimate: Estimate, config: PromptNodeConfig | ExecuteNodeConfig): Estimate {
  const price = priceOf(config.provider);
  return price ? { ...estimate, costUsd: costOf(price, estimate) } : estimate;
}
