import path from 'node:path';
import { UserError } from '../util/errors.js';
import { formatPath, type Locator, type YamlPath } from './yaml-path.js';
import { closestName } from './suggest.js';
import type { CacheConfig, NodeConfig, PipelineConfig, ResolvedProvider } from './types.js';
import { BUILTIN_PROVIDERS, resolveProviders, type RawProvider } from './resolve-providers.js';
import { nameTable } from '../util/name-table.js';
import { resolveContextNode, type RawContextNode } from './resolve-context.js';

/** The pipeline as schema/spx.schema.json admits it: what resolvePipeline starts from. */
export interface RawPipeline {
  version: 1;
  vars?: Record<string, string | number | boolean>;
  defaults?: { env?: string[]; envByValue?: string[]; provider?: string; agent?: string };
  providers?: Record<string, RawProvider>;
  nodes: Record<string, RawNode>;
  cache?: CacheConfig;
}

type RawNode = RawRunNode | RawPromptNode | RawContextNode | RawExecuteNode;

interface RawExecuteNode {
  foreach?: string;
  kind: 'execute';
  description?: string;
  agent?: string;
  prompt?: string;
  promptFile?: string;
  verify?: string[];
  attempts?: number;
  setup?: string[];
  link?: string[];
  output: string;
  inputs?: string[];
  needs?: string[];
  uses?: string[];
  env?: string[];
  envByValue?: string[];
}

interface RawPromptNode {
  foreach?: string;
  kind: 'spec' | 'plan';
  description?: string;
  prompt?: string;
  promptFile?: string;
  provider?: string;
  output: string;
  inputs?: string[];
  needs?: string[];
  uses?: string[];
  env?: string[];
  envByValue?: string[];
  review?: boolean;
}

interface RawRunNode {
  foreach?: string;
  kind: 'run';
  description?: string;
  command: string;
  inputs?: string[];
  outputs?: string[];
  needs?: string[];
  uses?: string[];
  env?: string[];
  envByValue?: string[];
}

/**
 * Applies defaults, substitutes `${vars.NAME}` and normalises paths, so that
 * everything downstream compares paths as plain strings. List indexes are
 * kept as written: later checks locate an entry by its index.
 */
export function resolvePipeline(
  raw: RawPipeline,
  root: string,
  locator: Locator,
): { config: PipelineConfig; errors: UserError[] } {
  const errors: UserError[] = [];
  const vars = nameTable(Object.entries(raw.vars ?? {}).map(([name, value]) => [name, String(value)]));
  const substitute = (text: string, at: YamlPath): string =>
    text.replace(/\$\{vars\.([^}]*)\}/g, (match, name: string) => {
      const value = vars[name];
      if (value !== undefined) return value;
      errors.push(new UserError(unknownVarMessage(match, name, at, Object.keys(vars)), locator.value(at)));
      return match;
    });

  const providers = resolveProviders(raw.providers);
  const findProvider = (name: string | undefined, at: YamlPath, key: 'provider' | 'agent' = 'provider'): ResolvedProvider | undefined => {
    const chosen = name ?? raw.defaults?.[key];
    if (chosen === undefined) {
      errors.push(new UserError(`${formatPath(at.slice(0, -1))} names no ${key}: add "${key}: NAME" or "defaults: { ${key}: NAME }"`, locator.key(at.slice(0, -1))));
      return undefined;
    }
    const config = providers[chosen] ?? BUILTIN_PROVIDERS[chosen];
    if (config) return { name: chosen, ...config };
    const known = [...Object.keys(providers), ...Object.keys(BUILTIN_PROVIDERS)];
    const close = closestName(chosen, known);
    const where = name === undefined ? ['defaults', key] : at;
    errors.push(new UserError(`unknown provider "${chosen}" (declared: ${known.join(', ')})${close ? `; did you mean "${close}"?` : ''}`, locator.value(where)));
    return undefined;
  };

  const nodes = nameTable<NodeConfig>();
  for (const [name, node] of Object.entries(raw.nodes)) {
    const at = (...rest: (string | number)[]): YamlPath => ['nodes', name, ...rest];
    const common = {
      ...(node.description === undefined ? {} : { description: node.description }),
      ...(node.foreach === undefined ? {} : { foreach: normalisePath(substitute(node.foreach, at('foreach')), root) }),
      inputs: (node.inputs ?? []).map((p, i) => normalisePath(substitute(p, at('inputs', i)), root)),
      needs: [...(node.needs ?? [])],
      uses: [...(node.uses ?? [])],
      env: [...new Set([...(raw.defaults?.env ?? []), ...(node.env ?? []), ...(raw.defaults?.envByValue ?? []), ...(node.envByValue ?? [])])],
      envByValue: [...new Set([...(raw.defaults?.envByValue ?? []), ...(node.envByValue ?? [])])],
    };
    // What spec, plan and execute nodes share: an instruction, a model or
    // agent, and one output file.
    const instructed = (raw: RawPromptNode | RawExecuteNode, provider: ResolvedProvider | undefined) => {
      const output = normalisePath(substitute(raw.output, at('output')), root);
      return {
        ...(raw.prompt === undefined ? {} : { prompt: raw.prompt }),
        ...(raw.promptFile === undefined ? {} : { promptFile: normalisePath(substitute(raw.promptFile, at('promptFile')), root) }),
        // A placeholder where the provider was not found: that error is reported.
        provider: provider ?? { name: '', type: 'echo' as const },
        output,
        outputs: [output],
      };
    };
    switch (node.kind) {
      case 'run':
        nodes[name] = {
          kind: node.kind,
          ...common,
          command: substitute(node.command, at('command')),
          outputs: (node.outputs ?? []).map((p, i) => normalisePath(substitute(p, at('outputs', i)), root)),
        };
        break;
      case 'spec':
      case 'plan':
        nodes[name] = {
          kind: node.kind,
          ...common,
          ...instructed(node, findProvider(node.provider, at('provider'))),
          // A plan is what a coding agent will act on: a human reads it first.
          review: node.review ?? node.kind === 'plan',
        };
        break;
      case 'execute':
        nodes[name] = {
          kind: node.kind,
          ...common,
          ...instructed(node, findProvider(node.agent, at('agent'), 'agent')),
          verify: (node.verify ?? []).map((command, i) => substitute(command, at('verify', i))),
          attempts: node.attempts ?? 3,
          setup: (node.setup ?? []).map((command, i) => substitute(command, at('setup', i))),
          link: (node.link ?? []).map((p, i) => normalisePath(substitute(p, at('link', i)), root)),
        };
        break;
      case 'context':
        nodes[name] = resolveContextNode(node, common, {
          name,
          nodeNames: Object.keys(raw.nodes),
          at,
          substitute,
          normalise: (p) => normalisePath(p, root),
        });
        break;
    }
  }
  return { config: { version: 1, vars, providers, nodes, cache: { ...(raw.cache?.remote ? { remote: { ...raw.cache.remote } } : {}) } }, errors };
}

function unknownVarMessage(match: string, name: string, at: YamlPath, defined: string[]): string {
  const close = closestName(name, defined);
  const hint = close === undefined ? '' : `; did you mean "\${vars.${close}}"?`;
  const known = defined.length === 0 ? 'no vars are defined' : `defined: ${defined.join(', ')}`;
  return `unknown variable "${match}" in ${formatPath(at)} (${known}${hint})`;
}

/**
 * A path as spx stores and compares it: posix, relative to the root, without
 * `./` or `..` detours; a trailing `/` (a directory) is kept. A path outside
 * the root stays relative (`../x`) when written so, absolute when written so,
 * for the checks to refuse as an output. The root itself is the empty string.
 */
export function normalisePath(raw: string, root: string): string {
  const isDirectory = raw.endsWith('/');
  let p = raw;
  if (path.isAbsolute(p)) {
    const relative = path.relative(root, p);
    if (relative !== '..' && !relative.startsWith('../') && !path.isAbsolute(relative)) p = relative;
  }
  const normalised = path.posix.normalize(p.split(path.sep).join('/'));
  if (normalised === '/') return normalised;
  const bare = normalised.replace(/\/+$/, '');
  if (bare === '.' || bare === '') return '';
  return isDirectory ? `${bare}/` : bare;
}
