import path from 'node:path';
import { UserError } from '../util/errors.js';
import { formatPath, type Locator, type YamlPath } from './yaml-path.js';
import { closestName } from './suggest.js';
import type { Budget, CacheConfig, PipelineConfig, ProviderConfig } from './types.js';
import { BUILTIN_PROVIDERS, resolveProviders, type RawProvider } from './resolve-providers.js';
import { nameTable } from '../util/name-table.js';
import { resolveNode, type PipelineScope, type RawNode } from './resolve-node.js';

/** The pipeline as schema/spx.schema.json admits it: what resolvePipeline starts from. */
export interface RawPipeline {
  version: 1;
  vars?: Record<string, string | number | boolean>;
  defaults?: { env?: string[]; envByValue?: string[]; provider?: string; agent?: string };
  providers?: Record<string, RawProvider>;
  nodes: Record<string, RawNode>;
  cache?: CacheConfig;
  budget?: Budget;
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
  const providers = resolveProviders(raw.providers);
  const scope: PipelineScope = {
    nodeNames: Object.keys(raw.nodes),
    defaults: raw.defaults,
    substitute: varSubstitution(vars, locator, errors),
    normalise: (p) => normalisePath(p, root),
    findProvider: providerFinder(providers, raw.defaults, locator, errors),
  };
  const nodes = nameTable(Object.entries(raw.nodes).map(([name, node]) => [name, resolveNode(name, node, scope)]));
  return { config: { version: 1, vars, providers, nodes, cache: { ...(raw.cache?.remote ? { remote: { ...raw.cache.remote } } : {}) }, ...(raw.budget ? { budget: { ...raw.budget } } : {}) }, errors };
}

/** Replaces `${vars.NAME}` in a setting; an unknown name is left as written, with an error. */
function varSubstitution(vars: Record<string, string>, locator: Locator, errors: UserError[]): PipelineScope['substitute'] {
  return (text, at) =>
    text.replace(/\$\{vars\.([^}]*)\}/g, (match, name: string) => {
      const value = vars[name];
      if (value !== undefined) return value;
      errors.push(new UserError(unknownVarMessage(match, name, at, Object.keys(vars)), locator.value(at)));
      return match;
    });
}

/** Finds the provider (or agent) a node names, else the pipeline's default, among the declared and the built-in ones. */
function providerFinder(
  providers: Record<string, ProviderConfig>,
  defaults: RawPipeline['defaults'],
  locator: Locator,
  errors: UserError[],
): PipelineScope['findProvider'] {
  return (name, at, key) => {
    const chosen = name ?? defaults?.[key];
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
