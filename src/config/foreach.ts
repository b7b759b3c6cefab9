import { UserError } from '../util/errors.js';
import { formatPath, type Locator, type YamlPath } from './yaml-path.js';
import type { NodeConfig, PipelineConfig } from './types.js';

/**
 * `{name}` in a node's strings. Not `${…}` (a shell's or spx's variables),
 * and only an identifier between the braces: `awk '{print $1}'` and
 * `{a,b}` are left alone.
 */
const PLACEHOLDER = /(?<!\$)\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/**
 * Keys whose values are not the instance's strings: names of nodes, of
 * variables and of providers, and `contains`, a regular expression in
 * which `{` is its own.
 */
const NOT_SUBSTITUTED = new Set(['kind', 'foreach', 'needs', 'uses', 'env', 'envByValue', 'provider', 'agent', 'contains', 'fromOutput']);

/** The placeholders of a text, in order of first appearance. */
export function placeholdersIn(text: string): string[] {
  return [...new Set([...text.matchAll(PLACEHOLDER)].map((match) => match[1]!))];
}

/** `text` with each `{name}` replaced by its value. */
export function fillPlaceholders(text: string, values: Readonly<Record<string, string>>): string {
  return text.replace(PLACEHOLDER, (match, name: string) => values[name] ?? match);
}

/** Whether a text holds a placeholder: PLACEHOLDER without its state (`g`). */
const HAS_PLACEHOLDER = new RegExp(PLACEHOLDER.source);

/**
 * Every string of a node's value that instances fill in and that holds a
 * placeholder, with where it is written. The path is built for those only:
 * this runs over every string of every node.
 */
function placeholderStrings(value: unknown, path: (string | number)[], found: { text: string; at: YamlPath }[] = []): { text: string; at: YamlPath }[] {
  if (typeof value === 'string') {
    if (HAS_PLACEHOLDER.test(value)) found.push({ text: value, at: [...path] });
  } else if (Array.isArray(value)) {
    value.forEach((item, index) => {
      path.push(index);
      placeholderStrings(item, path, found);
      path.pop();
    });
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      if (NOT_SUBSTITUTED.has(key)) continue;
      path.push(key);
      placeholderStrings(item, path, found);
      path.pop();
    }
  }
  return found;
}

/** A copy of the node with every placeholder filled in. */
export function fillNode<T>(value: T, values: Readonly<Record<string, string>>): T {
  if (typeof value === 'string') return fillPlaceholders(value, values) as T;
  if (Array.isArray(value)) return value.map((item) => fillNode(item, values)) as T;
  if (value !== null && typeof value === 'object') {
    const copy: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) copy[key] = NOT_SUBSTITUTED.has(key) ? item : fillNode(item, values);
    return copy as T;
  }
  return value;
}

/** The checks of `foreach:` patterns, placeholders and the edges between instances, each located in the file. */
export function checkForeach(rawNodes: Readonly<Record<string, unknown>>, config: PipelineConfig, locator: Locator): UserError[] {
  const errors: UserError[] = [];
  for (const [name, node] of Object.entries(config.nodes)) {
    const at = (...rest: (string | number)[]): YamlPath => ['nodes', name, ...rest];
    const pattern = node.foreach;
    const defined = pattern === undefined ? [] : placeholdersIn(pattern);
    if (pattern !== undefined) {
      const problem = patternProblem(pattern);
      if (problem) errors.push(new UserError(`foreach of node "${name}" ${problem}`, locator.value(at('foreach'))));
    }
    for (const { text, at: where } of placeholderStrings(rawNodes[name], ['nodes', name])) {
      for (const placeholder of placeholdersIn(text)) {
        if (pattern === undefined) {
          errors.push(new UserError(`{${placeholder}} in ${formatPath(where)}, but node "${name}" has no foreach to give it a value (add foreach: PATTERN, or write \${…} for a shell variable)`, locator.value(where)));
        } else if (!defined.includes(placeholder)) {
          errors.push(new UserError(`unknown placeholder {${placeholder}} in ${formatPath(where)}: foreach ${pattern} defines ${defined.map((d) => `{${d}}`).join(', ')}`, locator.value(where)));
        }
      }
    }
    if (pattern !== undefined) errors.push(...checkInstanceOutputs(name, node, rawNodes[name], defined, locator));
    errors.push(...checkInstanceEdges(name, node, config, locator));
  }
  return errors;
}

function patternProblem(pattern: string): string | undefined {
  const placeholders = [...pattern.matchAll(PLACEHOLDER)].map((match) => match[1]!);
  if (placeholders.length === 0) return 'has no {placeholder}: write the varying part of the path as {name}, e.g. features/{feature}/USER-SPEC.md';
  if (new Set(placeholders).size < placeholders.length) return 'names a placeholder twice; each may appear once';
  if (pattern === '' || pattern.startsWith('/') || pattern.split('/').includes('..')) return 'must be a path inside the project';
  if (/[*?[\]]/.test(pattern.replace(PLACEHOLDER, ''))) return 'is a path with {placeholders}, not a glob: * ? [ ] are not allowed';
  if (pattern.split('/').some((segment) => /\}\{/.test(segment))) return 'has two placeholders side by side: put something between them';
  return undefined;
}

/** Instances that wrote the same file would overwrite each other's work. */
function checkInstanceOutputs(name: string, node: NodeConfig, raw: unknown, defined: string[], locator: Locator): UserError[] {
  const errors: UserError[] = [];
  const declared = 'output' in node ? [{ path: node.output, at: ['nodes', name, 'output'] as YamlPath }] : node.outputs.map((path, i) => ({ path, at: ['nodes', name, 'outputs', i] as YamlPath }));
  for (const { path, at } of declared) {
    if (placeholdersIn(path).some((placeholder) => defined.includes(placeholder))) continue;
    // A context node's default output is not written in the file: point at its foreach.
    const written = typeof raw === 'object' && raw !== null && ('output' in raw || 'outputs' in raw);
    const where = locator.value(written ? at : ['nodes', name, 'foreach']);
    errors.push(new UserError(`output ${path} of foreach node "${name}" has no placeholder, so every instance would write it: include one of ${defined.map((d) => `{${d}}`).join(', ')}`, where));
  }
  return errors;
}

/**
 * Which instance an edge leads to: between two foreach nodes with the same
 * placeholders, the one with the same values; from a plain node, all of
 * them (fan-in); to a plain node, that node. Anything else has no one
 * meaning.
 */
function checkInstanceEdges(name: string, node: NodeConfig, config: PipelineConfig, locator: Locator): UserError[] {
  const errors: UserError[] = [];
  const mine = node.foreach === undefined ? undefined : placeholdersIn(node.foreach);
  for (const field of ['needs', 'uses'] as const) {
    for (const [index, dependency] of node[field].entries()) {
      const theirs = config.nodes[dependency]?.foreach;
      if (theirs === undefined || mine === undefined) continue;
      const their = placeholdersIn(theirs);
      if (sameSet(mine, their)) continue;
      errors.push(
        new UserError(
          `node "${name}" (foreach over ${mine.map((p) => `{${p}}`).join(', ')}) ${field} "${dependency}" (foreach over ${their.map((p) => `{${p}}`).join(', ')}): which instance is meant is ambiguous; give both the same placeholders`,
          locator.value(['nodes', name, field, index]),
        ),
      );
    }
  }
  if (node.kind === 'context' && node.files.fromOutput !== undefined && mine === undefined && config.nodes[node.files.fromOutput]?.foreach !== undefined) {
    errors.push(
      new UserError(
        `files.fromOutput of node "${name}" names the foreach node "${node.files.fromOutput}", which has one output per instance: make "${name}" a foreach node over the same placeholders`,
        locator.value(['nodes', name, 'files', 'fromOutput']),
      ),
    );
  }
  return errors;
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((item) => b.includes(item));
}
