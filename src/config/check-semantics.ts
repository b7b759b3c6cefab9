import path from 'node:path';
import { UserError } from '../util/errors.js';
import type { Locator, YamlPath } from './yaml-path.js';
import { closestName } from './suggest.js';
import type { PipelineConfig } from './types.js';
import { checkContextNodes, dependencyPath } from './check-context.js';

type DependencyField = 'needs' | 'uses';
const DEPENDENCY_FIELDS: readonly DependencyField[] = ['needs', 'uses'];

/** Files an output must never be: where the project's own pipeline and state live, relative to the root. */
export interface ProtectedPaths {
  /** The pipeline file and the files it extends that lie inside the project. */
  pipelineFiles: readonly string[];
  /** spx's state directory (`.spx`), when inside the project. */
  stateDir: string | undefined;
}

/**
 * What the schema cannot say: dependencies name real nodes and form no cycle,
 * every output belongs to one node, lies inside the project and is none of
 * the files spx or git keep there. Runs on the resolved config, so paths
 * compare as normalised strings.
 */
export function checkSemantics(config: PipelineConfig, locator: Locator, protectedPaths: ProtectedPaths): UserError[] {
  return [
    ...checkCommands(config, locator),
    ...checkDependencies(config, locator),
    ...checkCycles(config, locator),
    ...checkOutputs(config, locator, protectedPaths),
    ...checkContextNodes(config, locator),
  ];
}

function checkCommands(config: PipelineConfig, locator: Locator): UserError[] {
  const errors: UserError[] = [];
  for (const [name, node] of Object.entries(config.nodes)) {
    if ((node.kind === 'spec' || node.kind === 'plan' || node.kind === 'execute') && node.prompt !== undefined && node.promptFile !== undefined) {
      errors.push(new UserError(`node "${name}" has both prompt and promptFile; keep one`, locator.key(['nodes', name, 'promptFile'])));
    }
    if (node.kind === 'run' && node.command.trim() === '') {
      errors.push(new UserError(`node "${name}" has an empty command`, locator.value(['nodes', name, 'command'])));
    }
  }
  return errors;
}

function checkDependencies(config: PipelineConfig, locator: Locator): UserError[] {
  const errors: UserError[] = [];
  const names = Object.keys(config.nodes);
  for (const [name, node] of Object.entries(config.nodes)) {
    for (const field of DEPENDENCY_FIELDS) {
      node[field].forEach((dependency, index) => {
        const fail = (message: string): number =>
          errors.push(new UserError(message, locator.value(['nodes', name, field, index])));
        if (dependency === name) {
          fail(`node "${name}" ${field} itself`);
        } else if (!(dependency in config.nodes)) {
          const close = closestName(dependency, names);
          const hint = close === undefined ? '' : ` (did you mean "${close}"?)`;
          fail(`unknown node "${dependency}" in ${field} of node "${name}"${hint}`);
        } else if (field === 'uses' && node.needs.includes(dependency)) {
          fail(`node "${name}" lists "${dependency}" in both needs and uses; keep it in one (needs also triggers reruns)`);
        }
      });
    }
  }
  return errors;
}

/**
 * Depth-first in declaration order, so the same file always reports the same
 * cycles, each starting from the first of its nodes the walk reached.
 */
function checkCycles(config: PipelineConfig, locator: Locator): UserError[] {
  const errors: UserError[] = [];
  const done = new Set<string>();
  const stack: string[] = [];
  const onStack = new Set<string>();

  const visit = (name: string): void => {
    stack.push(name);
    onStack.add(name);
    const node = config.nodes[name]!;
    for (const field of DEPENDENCY_FIELDS) {
      node[field].forEach((dependency, index) => {
        // Unknown names and self-dependencies are reported by checkDependencies.
        if (dependency === name || !(dependency in config.nodes)) return;
        if (onStack.has(dependency)) {
          const cycle = [...stack.slice(stack.indexOf(dependency)), dependency];
          errors.push(new UserError(`cycle: ${cycle.join(' -> ')}`, locator.value(dependencyPath(config, name, field, index))));
        } else if (!done.has(dependency)) {
          visit(dependency);
        }
      });
    }
    stack.pop();
    onStack.delete(name);
    done.add(name);
  };

  for (const name of Object.keys(config.nodes)) {
    if (!done.has(name)) visit(name);
  }
  return errors;
}

interface Output {
  /** Place in declaration order. */
  order: number;
  node: string;
  index: number;
  /** As declared (after normalisation): a directory keeps its trailing `/`. */
  declared: string;
  /** Without the trailing `/`, for comparing. */
  bare: string;
}

function checkOutputs(config: PipelineConfig, locator: Locator, protectedPaths: ProtectedPaths): UserError[] {
  const errors: UserError[] = [];
  const inside: Output[] = [];
  const isProtected = protectedOutput(protectedPaths);
  for (const [name, node] of Object.entries(config.nodes)) {
    node.outputs.forEach((declared, index) => {
      const fail = (message: string): number =>
        errors.push(new UserError(message, locator.value(outputPath(config, name, index))));
      if (declared === '') {
        fail(`output of node "${name}" is the project root itself; name a file or directory inside it`);
      } else if (path.isAbsolute(declared) || declared === '..' || declared.startsWith('../')) {
        fail(`output "${declared}" of node "${name}" lies outside the project; outputs must be inside it`);
      } else {
        const why = isProtected(declared.replace(/\/$/, ''));
        if (why !== undefined) fail(`output "${declared}" of node "${name}" ${why}; no node may write or delete it`);
        else inside.push({ order: inside.length, node: name, index, declared, bare: declared.replace(/\/$/, '') });
      }
    });
  }

  // Each output meets only the outputs at its own path, at its ancestors and
  // below it: looked up by path, never compared pairwise (20,000 nodes).
  const at = new Map<string, FirstOwners>();
  const below = new Map<string, FirstOwners>();
  for (const later of inside) {
    const ancestors = ancestorsOf(later.bare);
    const candidates = [at.get(later.bare), below.get(later.bare), ...ancestors.map((a) => at.get(a))];
    let earlier: Output | undefined;
    for (const owners of candidates) {
      const other = owners && firstOfAnotherNode(owners, later.node);
      if (other && (earlier === undefined || other.order < earlier.order)) earlier = other;
    }
    if (earlier) {
      errors.push(new UserError(overlapMessage(earlier, later), locator.value(outputPath(config, later.node, later.index))));
    }
    addOwner(at, later.bare, later);
    for (const ancestor of ancestors) addOwner(below, ancestor, later);
  }
  return errors;
}

/**
 * What a path is that no build may write or delete: git's repository, spx's
 * record of the build, the pipeline itself, spx's own state. Folders of the
 * state directory that no state uses (`.spx/context/`, where context
 * bundles go by default, or `.spx/execute/`) stay allowed.
 */
function protectedOutput({ pipelineFiles, stateDir }: ProtectedPaths): (bare: string) => string | undefined {
  const files: [string, string][] = [
    [LOCK_FILE, `spx's record of the build`],
    ...pipelineFiles.map((file): [string, string] => [file, 'the pipeline file']),
  ];
  return (bare) => {
    if (bare.split('/').includes('.git')) return `is inside git's repository (.git/)`;
    for (const [file, what] of files) {
      if (bare === file) return `is ${what} (${file})`;
      if (file.startsWith(`${bare}/`)) return `contains ${what} (${file})`;
    }
    if (stateDir === undefined) return undefined;
    if (bare === stateDir) return `is spx's state directory`;
    if (stateDir.startsWith(`${bare}/`)) return `contains spx's state directory (${stateDir}/)`;
    if (!bare.startsWith(`${stateDir}/`)) return undefined;
    const [entry = ''] = bare.slice(stateDir.length + 1).split('/', 1);
    if (STATE_ENTRIES.includes(entry) || /\.(jsonl?|lock)$/.test(entry)) {
      return `is spx's own state (${stateDir}/${entry}; other folders of ${stateDir}/, such as ${stateDir}/context/, may hold outputs)`;
    }
    return undefined;
  };
}

/** spx.lock, in the project root (src/state/lockfile.ts; config may not import state). */
const LOCK_FILE = 'spx.lock';

/** What spx keeps in its state directory besides its JSON files: the cache, hand-edit backups, prompt logs. */
const STATE_ENTRIES = ['cache', 'backups', 'prompts'];

/** The first output recorded for a path, and the first of a node other than its node's: all an overlap check needs. */
interface FirstOwners {
  first: Output;
  firstOfOtherNode?: Output;
}

function addOwner(table: Map<string, FirstOwners>, key: string, output: Output): void {
  const owners = table.get(key);
  if (!owners) table.set(key, { first: output });
  else if (owners.firstOfOtherNode === undefined && owners.first.node !== output.node) owners.firstOfOtherNode = output;
}

function firstOfAnotherNode(owners: FirstOwners, node: string): Output | undefined {
  return owners.first.node !== node ? owners.first : owners.firstOfOtherNode;
}

/** `a/b/c` → `a`, `a/b`. */
function ancestorsOf(bare: string): string[] {
  const ancestors: string[] = [];
  for (let slash = bare.indexOf('/'); slash !== -1; slash = bare.indexOf('/', slash + 1)) ancestors.push(bare.slice(0, slash));
  return ancestors;
}

/** Where an output is written: `output:` for the kinds with one file, else `outputs[index]`. */
function outputPath(config: PipelineConfig, node: string, index: number): YamlPath {
  return 'output' in config.nodes[node]! ? ['nodes', node, 'output'] : ['nodes', node, 'outputs', index];
}

function overlapMessage(earlier: Output, later: Output): string {
  const describe = (o: Output): string =>
    `${o.declared.endsWith('/') ? 'directory output' : 'output'} "${o.declared}" of node "${o.node}"`;
  const ofLater = describe(later);
  const ofEarlier = describe(earlier);
  if (earlier.bare === later.bare) return `${ofLater} is also declared as ${ofEarlier}; each output must have one node`;
  if (later.bare.startsWith(`${earlier.bare}/`)) return `${ofLater} lies inside ${ofEarlier}; each output must have one node`;
  return `${ofLater} contains ${ofEarlier}; each output must have one node`;
}
