import type { PipelineConfig } from '../config/types.js';
import { didYouMean } from '../config/suggest.js';
import { UserError } from '../util/errors.js';
import { splitInstanceId } from './instance-id.js';

/**
 * The pipeline's nodes and their edges. The loader has already refused
 * unknown names and cycles, so this only answers questions.
 */
export class Graph {
  readonly names: readonly string[];

  constructor(private readonly config: PipelineConfig) {
    this.names = Object.keys(config.nodes);
  }

  /** Nodes built before `node`: what it needs and what it uses. */
  dependencies(node: string): string[] {
    const config = this.config.nodes[node];
    if (!config) return [];
    return [...new Set([...config.needs, ...config.uses])];
  }

  /**
   * The nodes the user's names stand for: a node, an instance of a foreach
   * node (`plan:login`), or a foreach node's bare name for all of its
   * instances. An unknown name is an error that lists the known ones.
   */
  resolve(names: readonly string[]): string[] {
    const resolved: string[] = [];
    for (const name of names) {
      const instances = this.config.instances?.[name];
      if (instances) resolved.push(...instances);
      else if (name in this.config.nodes) resolved.push(name);
      else throw new UserError(this.unknownNodeMessage(name));
    }
    return [...new Set(resolved)];
  }

  /** What an unknown name is told: the pipeline's nodes, a foreach node by its name and its instances. */
  private unknownNodeMessage(name: string): string {
    const instances = this.config.instances ?? {};
    const declared = [...new Set([...Object.keys(instances), ...this.names.filter((node) => splitInstanceId(node) === undefined)])];
    const template = splitInstanceId(name)?.node;
    if (template !== undefined && instances[template]) {
      const known = instances[template];
      return `"${name}" is not an instance of "${template}"; its instances are: ${known.length > 0 ? known.join(', ') : 'none (its foreach matches no file)'}`;
    }
    return `unknown node "${name}"${didYouMean(name, [...declared, ...this.names])}; the pipeline has: ${declared.join(', ')}`;
  }

  /**
   * The targets and everything they transitively depend on, dependencies
   * first; declaration order breaks ties so output is stable. No targets
   * means every node.
   */
  closure(targets: readonly string[]): string[] {
    const roots = targets.length > 0 ? this.resolve(targets) : this.names;
    const order: string[] = [];
    const visited = new Set<string>();
    const visit = (node: string): void => {
      if (visited.has(node)) return;
      visited.add(node);
      for (const dependency of this.dependencies(node)) visit(dependency);
      order.push(node);
    };
    for (const root of roots) visit(root);
    return order;
  }

  /** For each node of `nodes`, the nodes of the same set that depend on it. */
  dependentsWithin(nodes: readonly string[]): Map<string, string[]> {
    const inSet = new Set(nodes);
    const dependents = new Map<string, string[]>(nodes.map((n) => [n, []]));
    for (const node of nodes) {
      for (const dependency of this.dependencies(node)) {
        if (inSet.has(dependency)) dependents.get(dependency)!.push(node);
      }
    }
    return dependents;
  }
}
