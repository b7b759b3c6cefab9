import picomatch from 'picomatch';
import type { LoadedPipeline } from '../../config/types.js';
import { globMatcher } from '../../files/input-resolver.js';
import { Graph } from '../../graph/graph.js';
import { triggers } from './watch-scope.js';

/**
 * Which nodes a change can make stale: those whose inputs, outputs or
 * selection name a changed file, and everything that depends on them. A
 * watch builds only these (with what they depend on, as any target), so a
 * save in a 1,000-node pipeline evaluates one chain, not the whole graph.
 * Like the scope, a node is rather taken than missed: it is only evaluated.
 */
export class AffectedNodes {
  /** Project path → the nodes naming it exactly. */
  private readonly byFile = new Map<string, string[]>();
  private readonly byPrefix: [string, string][] = [];
  private readonly byGlob: [(file: string) => boolean, string][] = [];
  private readonly dependents: Map<string, string[]>;

  constructor(pipeline: LoadedPipeline, targets: readonly string[]) {
    const graph = new Graph(pipeline.config);
    const nodes = graph.closure([...targets]);
    this.dependents = graph.dependentsWithin(nodes);
    for (const node of nodes) {
      for (const pattern of triggers(pipeline.config.nodes[node]!)) {
        if (pattern.startsWith('!')) continue;
        if (picomatch.scan(pattern).isGlob) this.byGlob.push([globMatcher(pattern), node]);
        else if (pattern.endsWith('/')) this.byPrefix.push([pattern, node]);
        else this.byFile.set(pattern, [...(this.byFile.get(pattern) ?? []), node]);
      }
    }
  }

  /** The nodes to build after these project paths changed, in no particular order. */
  of(files: readonly string[]): string[] {
    const affected = new Set<string>();
    const add = (node: string): void => {
      if (affected.has(node)) return;
      affected.add(node);
      for (const dependent of this.dependents.get(node) ?? []) add(dependent);
    };
    for (const file of files) {
      for (const node of this.byFile.get(file) ?? []) add(node);
      for (const [prefix, node] of this.byPrefix) if (file.startsWith(prefix)) add(node);
      for (const [matches, node] of this.byGlob) if (matches(file)) add(node);
    }
    return [...affected];
  }
}
