import path from 'node:path';
import { UserError } from '../util/errors.js';
import { formatPath, type Locator, type YamlPath } from './yaml-path.js';
import { closestName } from './suggest.js';
import type { NodeConfig, PipelineConfig } from './types.js';

/** The pipeline as schema/spx.schema.json admits it: what resolvePipeline starts from. */
export interface RawPipeline {
  version: 1;
  vars?: Record<string, string | number | boolean>;
  defaults?: { env?: string[] };
  nodes: Record<string, RawRunNode>;
}

interface RawRunNode {
  kind: 'run';
  description?: string;
  command: string;
  inputs?: string[];
  outputs?: string[];
  needs?: string[];
  uses?: string[];
  env?: string[];
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
  const vars = Object.fromEntries(Object.entries(raw.vars ?? {}).map(([name, value]) => [name, String(value)]));
  const substitute = (text: string, at: YamlPath): string =>
    text.replace(/\$\{vars\.([^}]*)\}/g, (match, name: string) => {
      const value = vars[name];
      if (value !== undefined) return value;
      errors.push(new UserError(unknownVarMessage(match, name, at, Object.keys(vars)), locator.value(at)));
      return match;
    });

  const nodes: Record<string, NodeConfig> = {};
  for (const [name, node] of Object.entries(raw.nodes)) {
    const at = (...rest: (string | number)[]): YamlPath => ['nodes', name, ...rest];
    nodes[name] = {
      kind: node.kind,
      ...(node.description === undefined ? {} : { description: node.description }),
      command: substitute(node.command, at('command')),
      inputs: (node.inputs ?? []).map((p, i) => normalisePath(substitute(p, at('inputs', i)), root)),
      outputs: (node.outputs ?? []).map((p, i) => normalisePath(substitute(p, at('outputs', i)), root)),
      needs: [...(node.needs ?? [])],
      uses: [...(node.uses ?? [])],
      env: [...new Set([...(raw.defaults?.env ?? []), ...(node.env ?? [])])],
    };
  }
  return { config: { version: 1, vars, nodes }, errors };
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
