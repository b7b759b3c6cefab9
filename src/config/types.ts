/**
 * The pipeline as spx understands it after loading spx.yaml: defaults
 * applied, `${vars.NAME}` substituted, every list present. Everything past
 * the loader works on these types only, never on raw YAML.
 */

export const NODE_KINDS = ['run', 'spec', 'plan', 'context', 'execute'] as const;
export type NodeKind = (typeof NODE_KINDS)[number];

/** What every node has, whatever its kind: the graph machinery reads only these. */
interface NodeFields {
  /** What the node is for: shown to the user, never part of the fingerprint. */
  description?: string;
  /**
   * A path with `{name}` placeholders: the node stands for one instance per
   * existing file it matches (src/config/instances.ts). Only on nodes as
   * compiled; a loaded pipeline holds the instances instead.
   */
  foreach?: string;
  /** Files or picomatch globs, relative to the project root; changes trigger a rerun. */
  inputs: string[];
  /** Files or directories (trailing `/`) the node writes, relative to the project root. */
  outputs: string[];
  /** Nodes built first whose output changes trigger a rerun. */
  needs: string[];
  /** Nodes built first and read, whose changes alone do not trigger (order-only). */
  uses: string[];
  /**
   * Environment variables that enter the fingerprint: by value, except
   * those whose names look like secrets (see fingerprint/env.ts), which
   * enter by presence only unless `envByValue` names them.
   */
  env: string[];
  /** The secret-looking variables of `env` whose values enter the fingerprint all the same. */
  envByValue: string[];
  /** Show the node's output on a terminal when it succeeds, as -v does for every node. Display only: not in the fingerprint. */
  showOutput?: boolean;
}

/** What spec, plan and execute nodes add: an instruction, a model or agent, one output file. */
interface InstructedNodeFields {
  /** The instruction, inline. */
  prompt?: string;
  /** The instruction, from a file relative to the project root (it triggers like an input). */
  promptFile?: string;
  /** The provider, resolved from `provider:` (`agent:` for execute) or the defaults. */
  provider: ResolvedProvider;
  /** The one file written; `outputs` is `[output]`. */
  output: string;
}

/** A `run` node: the Makefile recipe. */
export interface RunNodeConfig extends NodeFields {
  kind: 'run';
  /** Shell command, run with `sh -c` in the project root. */
  command: string;
}

/**
 * A `spec` or `plan` node: an instruction plus the contents of its inputs,
 * needed outputs and used bundles → one model answer, written to `output`.
 */
export interface PromptNodeConfig extends NodeFields, InstructedNodeFields {
  kind: 'spec' | 'plan';
  /** Dependents wait until `spx approve` records the output's hash (default: true for plan). */
  review: boolean;
}

/**
 * A `context` node: selects project files and packs them with repomix into
 * one bundle. How the selectors combine: docs/context-nodes.md.
 */
export interface ContextNodeConfig {
  kind: 'context';
  description?: string;
  /** As for every kind (NodeFields). */
  foreach?: string;
  files: ContextSelection;
  /** repomix's options, spx's defaults applied. */
  repomix: ContextRepomixOptions;
  /** Fail, naming the largest files, when the bundle has more tokens than this. */
  maxTokens?: number;
  /** The bundle (default `.spx/context/NAME.<ext of style>`). */
  output: string;
  /** `[output]`, so that the machinery shared by all kinds sees it. */
  outputs: string[];
  /** Always empty: the selection is the node's triggering input. */
  inputs: string[];
  needs: string[];
  /** As declared, plus `files.fromOutput`: built first and read, not triggering by itself. */
  uses: string[];
  env: string[];
  envByValue: string[];
  /** As for every kind (NodeFields). */
  showOutput?: boolean;
}

/** Which files a context bundle holds: (include ∩ contains ∩ changedSince) ∪ fromCommand ∪ fromOutput, minus exclude and ignored files. */
export interface ContextSelection {
  /** picomatch globs; resolved to `["**"]` when absent and neither fromCommand nor fromOutput is set, else to `[]`. */
  include: string[];
  exclude: string[];
  /** A JavaScript regular expression a file's content must match. */
  contains?: string;
  /** A git ref: keep files changed between its merge base with HEAD and the working tree, or untracked. */
  changedSince?: string;
  /** A shell command printing project paths, one a line. */
  fromCommand?: string;
  /** A node whose outputs name project files to add. */
  fromOutput?: string;
  /** Leave out files git ignores. */
  gitignore: boolean;
}

export const REPOMIX_STYLES = ['xml', 'markdown', 'plain', 'json'] as const;
export const TOKEN_ENCODINGS = ['o200k_base', 'cl100k_base', 'p50k_base', 'p50k_edit', 'r50k_base'] as const;

/** The repomix options spx passes through; the rest would make a bundle depend on more than its files. */
export interface ContextRepomixOptions {
  style: (typeof REPOMIX_STYLES)[number];
  parsableStyle: boolean;
  compress: boolean;
  removeComments: boolean;
  removeEmptyLines: boolean;
  showLineNumbers: boolean;
  truncateBase64: boolean;
  fileSummary: boolean;
  directoryStructure: boolean;
  headerText?: string;
  /** repomix's secret scan (security.enableSecurityCheck): flagged files are left out and reported. */
  securityCheck: boolean;
  tokenEncoding: (typeof TOKEN_ENCODINGS)[number];
}

/**
 * An `execute` node: a coding agent carries out the approved plan in a
 * scratch git worktree; the verify commands run there; only a verified
 * change, captured as a patch (the output), reaches the user's tree.
 */
export interface ExecuteNodeConfig extends NodeFields, InstructedNodeFields {
  kind: 'execute';
  /** Shell commands run in the worktree after the agent; all must pass. */
  verify: string[];
  /** How many times the agent may try (each retry is given the failing verify output). */
  attempts: number;
  /** Shell commands run in a fresh worktree before the agent (e.g. npm ci). */
  setup: string[];
  /** Paths (e.g. node_modules) linked from the user's tree into the worktree, never part of the patch. */
  link: string[];
  /** How hard the agent thinks: a phrase added to its prompt (Claude Code's thinking keywords); absent, none. */
  effort?: (typeof AGENT_EFFORTS)[number];
  /** Asks the agent to split independent work among parallel subagents. */
  parallelAgents: boolean;
}

/** `effort:` values, least to most thinking (and cost). */
export const AGENT_EFFORTS = ['think', 'think-hard', 'think-harder', 'ultrathink'] as const;

export type NodeConfig = RunNodeConfig | PromptNodeConfig | ContextNodeConfig | ExecuteNodeConfig;

/** A model through Google's `@google/generative-ai` SDK. */
export interface GeminiProviderConfig {
  type: 'gemini';
  model: string;
  temperature?: number;
  topP?: number;
  topK?: number;
  maxOutputTokens?: number;
  /** The environment variable holding the API key (default GEMINI_API_KEY). The key itself is never stored. */
  apiKeyEnv: string;
  /** Another endpoint (a proxy, a test server). */
  baseUrl?: string;
  /** Per call, in seconds. */
  timeout: number;
  /** Attempts after the first on 429, 5xx and network errors. */
  retries: number;
  price?: Price;
}

/** Any CLI that takes a prompt and answers on stdout (`gemini -p`, `llm`, `ollama run`). */
export interface CommandProviderConfig {
  type: 'command';
  /** The program and its arguments. */
  command: string[];
  /** How the prompt reaches it: on stdin, as a last argument, or as the path of a file as last argument. */
  promptVia: 'stdin' | 'argument' | 'file';
  timeout: number;
  price?: Price;
}

/** Claude Code in headless mode: `claude -p --output-format json`. */
export interface ClaudeCodeProviderConfig {
  type: 'claude-code';
  model?: string;
  /** The program and leading arguments (default: ["claude"]). */
  command: string[];
  timeout: number;
  /** Claude Code's --permission-mode (for execute nodes). */
  permissionMode?: string;
  /** Claude Code's --allowedTools (for execute nodes). */
  allowedTools?: string[];
  price?: Price;
}

/**
 * What a provider's tokens cost, in USD per million tokens, as its price
 * list says: the forecast and the ledger turn tokens into dollars with it
 * (src/cost/). Never part of a fingerprint: a price changes no answer.
 */
export interface Price {
  input: number;
  output: number;
  /** Input tokens the provider served from its own context cache, when it says so. */
  cachedInput?: number;
}

/** Offline and deterministic: answers with a labelled digest of the prompt. */
export interface EchoProviderConfig {
  type: 'echo';
}

export type ProviderConfig = GeminiProviderConfig | CommandProviderConfig | ClaudeCodeProviderConfig | EchoProviderConfig;

/** A provider as a node refers to it: its name (for messages) and its settings. */
export type ResolvedProvider = ProviderConfig & { name: string };

export interface PipelineConfig {
  version: 1;
  vars: Record<string, string>;
  providers: Record<string, ProviderConfig>;
  /** In the order the file declares them; a foreach node's instances in its place, sorted by id. */
  nodes: Record<string, NodeConfig>;
  /** Each foreach node's instance ids (`plan` → `plan:login`, `plan:export`), once expanded. */
  instances?: Record<string, string[]>;
  /** Where outputs are kept; never part of a fingerprint: where an output is kept does not change it. */
  cache: CacheConfig;
  /** What one build may spend on model and agent calls; `--max-tokens` and `--max-cost` win. */
  budget?: Budget;
}

/** Limits on one build's model spend, checked against the forecast before the first call and against actual spend during the build. */
export interface Budget {
  /** Input plus output tokens. */
  maxTokens?: number;
  maxCostUsd?: number;
}

export interface CacheConfig {
  remote?: RemoteCacheConfig;
}

/**
 * A server of the Turborepo Remote Cache API behind the local cache.
 * Flags and SPX_REMOTE_CACHE_* variables override it (src/cache/remote-config.ts).
 * Secrets are named here, never held: the token and the signing key are
 * read from the environment only.
 */
export interface RemoteCacheConfig {
  /** Usually left to CI's SPX_REMOTE_CACHE_URL. */
  url?: string;
  /** Team id (team_…) or slug. */
  team?: string;
  /** The variable holding the bearer token (default SPX_REMOTE_CACHE_TOKEN). */
  tokenEnv?: string;
  /** Restore from the remote, never upload (pull requests). */
  readOnly?: boolean;
  /** The variable holding the HMAC key that signs uploads and verifies downloads; signing is off without it. */
  signatureKeyEnv?: string;
  /** Seconds one request may take (default 30). */
  timeout?: number;
}

export interface LoadedPipeline {
  /** Absolute path of the pipeline file. */
  file: string;
  /** Absolute path of the project root (the directory all paths are relative to). */
  root: string;
  config: PipelineConfig;
}
