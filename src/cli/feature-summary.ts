import type { PipelineConfig } from '../config/types.js';
import { byValue, splitInstanceId } from '../graph/instance-id.js';

export interface NodeStanding {
  name: string;
  state: 'fresh' | 'stale' | 'blocked' | 'awaiting-review';
}

export interface FeatureStanding {
  /** The foreach value: the feature's name. */
  feature: string;
  /** Where the feature stands, in a few words: "plan awaiting review", "carried out". */
  stands: string;
}

/**
 * One line per feature (per foreach value): the first of its instances, in
 * build order, that is not fresh says where it stands; a feature whose
 * instances are all fresh is carried out (it has an execute node) or up to date.
 */
export function featureStandings(config: PipelineConfig, nodes: readonly NodeStanding[]): FeatureStanding[] {
  const states = new Map(nodes.map((node) => [node.name, node.state]));
  const standings: FeatureStanding[] = [];
  for (const [feature, instances] of byValue(nodes.map((node) => node.name))) {
    const first = instances.find((instance) => states.get(instance) !== 'fresh');
    if (first === undefined) {
      const carriedOut = instances.some((instance) => config.nodes[instance]?.kind === 'execute');
      standings.push({ feature, stands: carriedOut ? 'carried out' : 'up to date' });
      continue;
    }
    const node = splitInstanceId(first)!.node;
    const state = states.get(first);
    standings.push({ feature, stands: state === 'awaiting-review' ? `${node} awaiting review` : state === 'stale' ? `${node} to run` : `${node} waiting` });
  }
  return standings;
}
