import { readdirSync, statSync, type Dirent } from 'node:fs';
import path from 'node:path';
import { UserError } from '../util/errors.js';
import { nameTable } from '../util/name-table.js';
import { fillNode, placeholdersIn } from './foreach.js';
import type { NodeConfig, PipelineConfig } from './types.js';

/** Directories a foreach pattern never looks into: spx's own state and git's. */
const NEVER_SEARCHED = new Set(['.git', '.spx']);

/**
 * What a placeholder's value may be. Values are names found on disk and
 * they are filled into shell commands: a directory named `x; rm -rf ~` must
 * not become one.
 */
const SAFE_VALUE = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;

/** Whether a placeholder may take this value (a feature's name, say). */
export function isSafeValue(value: string): boolean {
  return SAFE_VALUE.test(value);
}

/** One instance of a foreach node: `plan:login`, with `{feature}` = login. */
interface Instance {
  id: string;
  values: Record<string, string>;
}

/**
 * Replaces every foreach node by its instances, one per existing file its
 * pattern matches (`spec:login`, `spec:export`), each with its placeholders
 * filled in, and points every edge at instances: paired by value between
 * foreach nodes, to all of them from a plain node. Runs on every load,
 * after the config cache: the features on disk change without spx.yaml
 * changing, and listing them costs a directory read or two.
 */
export function expandInstances(config: PipelineConfig, root: string): PipelineConfig {
  const templates = Object.entries(config.nodes).filter(([, node]) => node.foreach !== undefined);
  if (templates.length === 0) return config;
  const found = new Map<string, Instance[]>(templates.map(([name, node]) => [name, instancesOf(name, node.foreach!, root)]));
  const ids = new Map([...found].map(([name, instances]) => [name, new Set(instances.map((instance) => instance.id))]));

  const nodes = nameTable<NodeConfig>();
  const instancesOfNode = nameTable<string[]>();
  for (const [name, node] of Object.entries(config.nodes)) {
    const instances = found.get(name);
    if (!instances) {
      nodes[name] = withEdges(node, (dependency) => [...(ids.get(dependency) ?? [dependency])]);
      continue;
    }
    for (const instance of instances) {
      const { foreach: _pattern, ...filled } = fillNode(node, instance.values);
      const pairedWith = (dependency: string): string[] => {
        const theirs = config.nodes[dependency]!.foreach;
        if (theirs === undefined) return [dependency];
        const paired = instanceId(dependency, placeholdersIn(theirs), instance.values);
        if (!ids.get(dependency)!.has(paired)) {
          throw new UserError(
            `"${instance.id}" depends on "${paired}", which does not exist: the foreach patterns of "${name}" (${node.foreach}) and "${dependency}" (${theirs}) match different files`,
          );
        }
        return [paired];
      };
      nodes[instance.id] = withEdges(filled as NodeConfig, pairedWith);
    }
    instancesOfNode[name] = instances.map((instance) => instance.id);
  }
  return { ...config, nodes, instances: instancesOfNode };
}

/** `NODE:VALUE`, values joined with `/` in the pattern's order. */
function instanceId(node: string, placeholders: readonly string[], values: Readonly<Record<string, string>>): string {
  return `${node}:${placeholders.map((placeholder) => values[placeholder]).join('/')}`;
}

function withEdges(node: NodeConfig, target: (dependency: string) => string[]): NodeConfig {
  const edges = { ...node, needs: node.needs.flatMap(target), uses: node.uses.flatMap(target) };
  if (edges.kind === 'context' && edges.files.fromOutput !== undefined) {
    // Checked at load: a plain context node never follows a foreach node's output.
    edges.files = { ...edges.files, fromOutput: target(edges.files.fromOutput)[0]! };
  }
  return edges;
}

/** The files the pattern matches, as instances sorted by id. */
function instancesOf(name: string, pattern: string, root: string): Instance[] {
  const placeholders = placeholdersIn(pattern);
  const segments = pattern.split('/').map(segmentMatcher);
  const instances: Instance[] = [];
  const visit = (directory: string, index: number, values: Record<string, string>): void => {
    const segment = segments[index]!;
    const last = index === segments.length - 1;
    if (segment.literal !== undefined) {
      const next = directory === '' ? segment.literal : `${directory}/${segment.literal}`;
      if (last ? isFile(root, next) : true) {
        if (last) instances.push({ id: instanceId(name, placeholders, values), values });
        else visit(next, index + 1, values);
      }
      return;
    }
    for (const entry of list(root, directory)) {
      if (NEVER_SEARCHED.has(entry.name)) continue;
      const match = segment.regex!.exec(entry.name);
      if (!match) continue;
      const next = directory === '' ? entry.name : `${directory}/${entry.name}`;
      const bound = { ...values, ...match.groups };
      const unsafe = Object.values(match.groups!).find((value) => !SAFE_VALUE.test(value));
      if (unsafe !== undefined) {
        throw new UserError(
          `${next} matches foreach ${pattern} of node "${name}" with the value "${unsafe}": a value may hold only letters, digits, ".", "_" and "-", not begin with "." or "-" (it becomes part of node ids, paths and commands); rename it`,
        );
      }
      if (last) {
        if (isFile(root, next)) instances.push({ id: instanceId(name, placeholders, bound), values: bound });
      } else if (entry.isDirectory()) {
        visit(next, index + 1, bound);
      }
    }
  };
  visit('', 0, {});
  return instances.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

interface SegmentMatcher {
  /** A segment without placeholders: looked up, not listed. */
  literal?: string;
  regex?: RegExp;
}

/** A placeholder matches within one path segment: one or more characters, no `/`. */
function segmentMatcher(segment: string): SegmentMatcher {
  if (placeholdersIn(segment).length === 0) return { literal: segment };
  const parts = segment.split(/(\{[A-Za-z_][A-Za-z0-9_]*\})/);
  const source = parts.map((part) => (/^\{[A-Za-z_][A-Za-z0-9_]*\}$/.test(part) ? `(?<${part.slice(1, -1)}>.+?)` : escapeRegExp(part))).join('');
  return { regex: new RegExp(`^${source}$`, 's') };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function list(root: string, directory: string): Dirent[] {
  try {
    return readdirSync(path.join(root, directory), { withFileTypes: true });
  } catch {
    return [];
  }
}

function isFile(root: string, file: string): boolean {
  try {
    return statSync(path.join(root, file)).isFile();
  } catch {
    return false;
  }
}
