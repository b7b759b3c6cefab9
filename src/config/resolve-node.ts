import type { YamlPath } from './yaml-path.js';
import type { ExecuteNodeConfig, NodeConfig, PromptNodeConfig, ResolvedProvider, RunNodeConfig } from './types.js';
import { resolveContextNode, type RawContextNode } from './resolve-context.js';

export type RawNode = RawRunNode | RawPromptNode | RawContextNode | RawExecuteNode;

/** The keys every kind but context takes alike, as the schema admits them. */
interface RawNodeFields {
  foreach?: string;
  description?: string;
  inputs?: string[];
  needs?: string[];
  uses?: string[];
  env?: string[];
  envByValue?: string[];
  showOutput?: boolean;
}

/** What spec, plan and execute add: an instruction and one output file. */
interface RawInstructedFields extends RawNodeFields {
  prompt?: string;
  promptFile?: string;
  output: string;
}

interface RawExecuteNode extends RawInstructedFields {
  kind: 'execute';
  agent?: string;
  verify?: string[];
  attempts?: number;
  setup?: string[];
  link?: string[];
  effort?: ExecuteNodeConfig['effort'];
  parallelAgents?: boolean;
}

interface RawPromptNode extends RawInstructedFields {
  kind: 'spec' | 'plan';
  provider?: string;
  review?: boolean;
}

interface RawRunNode extends RawNodeFields {
  kind: 'run';
  command: string;
  outputs?: string[];
}

/** What resolving one node needs from the whole pipeline; errors are collected by whoever made these functions. */
export interface PipelineScope {
  nodeNames: readonly string[];
  defaults: { env?: string[]; envByValue?: string[] } | undefined;
  /** `${vars.NAME}` replaced; an unknown name is an error located at `at`. */
  substitute(text: string, at: YamlPath): string;
  /** normalisePath against the project root. */
  normalise(path: string): string;
  /** The provider (or agent) named at `at`, else the default; undefined, with an error, when there is none. */
  findProvider(name: string | undefined, at: YamlPath, key: 'provider' | 'agent'): ResolvedProvider | undefined;
}

/** Where in spx.yaml a node's setting is, for errors. */
type Locate = (...rest: (string | number)[]) => YamlPath;

/** One node with its kind's defaults applied, its vars substituted and its paths normalised. */
export function resolveNode(name: string, node: RawNode, scope: PipelineScope): NodeConfig {
  const at: Locate = (...rest) => ['nodes', name, ...rest];
  const common = commonFields(node, at, scope);
  switch (node.kind) {
    case 'run':
      return resolveRunNode(node, common, at, scope);
    case 'spec':
    case 'plan':
      return resolvePromptNode(node, common, at, scope);
    case 'execute':
      return resolveExecuteNode(node, common, at, scope);
    case 'context':
      return resolveContextNode(node, common, { name, nodeNames: scope.nodeNames, at, substitute: scope.substitute, normalise: scope.normalise });
  }
}

/** What every kind resolves alike. */
function commonFields(node: RawNode, at: Locate, scope: PipelineScope) {
  const defaults = scope.defaults;
  return {
    ...(node.description === undefined ? {} : { description: node.description }),
    ...(node.showOutput === true ? { showOutput: true } : {}),
    ...(node.foreach === undefined ? {} : { foreach: scope.normalise(scope.substitute(node.foreach, at('foreach'))) }),
    inputs: (node.inputs ?? []).map((p, i) => scope.normalise(scope.substitute(p, at('inputs', i)))),
    needs: [...(node.needs ?? [])],
    uses: [...(node.uses ?? [])],
    env: [...new Set([...(defaults?.env ?? []), ...(node.env ?? []), ...(defaults?.envByValue ?? []), ...(node.envByValue ?? [])])],
    envByValue: [...new Set([...(defaults?.envByValue ?? []), ...(node.envByValue ?? [])])],
  };
}

type CommonFields = ReturnType<typeof commonFields>;

function resolveRunNode(node: RawRunNode, common: CommonFields, at: Locate, scope: PipelineScope): RunNodeConfig {
  return {
    kind: node.kind,
    ...common,
    command: scope.substitute(node.command, at('command')),
    outputs: (node.outputs ?? []).map((p, i) => scope.normalise(scope.substitute(p, at('outputs', i)))),
  };
}

function resolvePromptNode(node: RawPromptNode, common: CommonFields, at: Locate, scope: PipelineScope): PromptNodeConfig {
  return {
    kind: node.kind,
    ...common,
    ...instructed(node, scope.findProvider(node.provider, at('provider'), 'provider'), at, scope),
    // A plan is what a coding agent will act on: a human reads it first.
    review: node.review ?? node.kind === 'plan',
  };
}

function resolveExecuteNode(node: RawExecuteNode, common: CommonFields, at: Locate, scope: PipelineScope): ExecuteNodeConfig {
  return {
    kind: node.kind,
    ...common,
    ...instructed(node, scope.findProvider(node.agent, at('agent'), 'agent'), at, scope),
    verify: (node.verify ?? []).map((command, i) => scope.substitute(command, at('verify', i))),
    attempts: node.attempts ?? 3,
    setup: (node.setup ?? []).map((command, i) => scope.substitute(command, at('setup', i))),
    link: (node.link ?? []).map((p, i) => scope.normalise(scope.substitute(p, at('link', i)))),
    ...(node.effort === undefined ? {} : { effort: node.effort }),
    parallelAgents: node.parallelAgents ?? false,
  };
}

/** What spec, plan and execute nodes share: an instruction, a model or agent, and one output file. */
function instructed(node: RawPromptNode | RawExecuteNode, provider: ResolvedProvider | undefined, at: Locate, scope: PipelineScope) {
  const output = scope.normalise(scope.substitute(node.output, at('output')));
  return {
    ...(node.prompt === undefined ? {} : { prompt: node.prompt }),
    ...(node.promptFile === undefined ? {} : { promptFile: scope.normalise(scope.substitute(node.promptFile, at('promptFile'))) }),
    // A placeholder where the provider was not found: that error is reported.
    provider: provider ?? { name: '', type: 'echo' as const },
    output,
    outputs: [output],
  };
}
