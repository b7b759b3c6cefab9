import type { PipelineConfig } from '../config/types.js';
import { UserError } from '../util/errors.js';

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
   * The targets and everything they transitively depend on, dependencies
   * first; declaration order breaks ties so output is stable. No targets
   * means every node.
   */
  closure(targets: readonly string[]): string[] {
    for (const target of targets) {
      if (!(target in this.config.nodes)) {
        throw new UserError(`unknown node "${target}"; the pipeline has: ${this.names.join(', ')}`);
      }
    }
    const roots = targets.length > 0 ? targets : this.names;
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
