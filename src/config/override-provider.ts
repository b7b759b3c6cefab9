import { UserError } from '../util/errors.js';
import { nameTable } from '../util/name-table.js';
import { BUILTIN_PROVIDERS } from './resolve-providers.js';
import type { LoadedPipeline, NodeConfig } from './types.js';

/**
 * `spx build --provider NAME`: every node that calls a provider calls NAME
 * for this run. The provider is part of each node's fingerprint, so a
 * rehearsal's outputs never pass for a real model's.
 */
export function withProvider(pipeline: LoadedPipeline, name: string): LoadedPipeline {
  const provider = pipeline.config.providers[name] ?? BUILTIN_PROVIDERS[name];
  if (!provider) {
    const known = [...Object.keys(pipeline.config.providers), ...Object.keys(BUILTIN_PROVIDERS)];
    throw new UserError(`--provider: unknown provider "${name}" (declared: ${known.join(', ')})`);
  }
  const nodes = nameTable<NodeConfig>(
    Object.entries(pipeline.config.nodes).map(([node, config]) => [node, 'provider' in config ? { ...config, provider: { name, ...provider } } : config]),
  );
  return { ...pipeline, config: { ...pipeline.config, nodes } };
}
