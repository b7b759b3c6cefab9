import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LocalCache } from '../cache/local-cache.js';
import type { LoadedPipeline } from '../config/types.js';
import { escapesForbidden } from '../render/escapes.js';
import type { BuildState } from '../state/build-state.js';
import { approvedBytes, diffAgainstApproved } from './approved-bytes.js';
import { askYesNo } from './ask.js';

/**
 * The review at the terminal, when a build stops at a gate and a person can
 * answer: what changed since the last approval, then y/N. Loaded only then.
 */

/** What each output changed since it was last approved, where the cache (`cacheDir`, none with --no-cache) still has the approved bytes. */
export async function showChangesSinceApproval(pipeline: LoadedPipeline, state: BuildState, cacheDir: string | undefined, nodes: readonly string[]): Promise<void> {
  if (cacheDir === undefined) return;
  const cache = new LocalCache(cacheDir);
  for (const node of nodes) {
    for (const [output, hash] of Object.entries(state.get(node)?.approvedOutputs ?? {})) {
      const before = approvedBytes(cache, hash);
      const file = join(pipeline.root, output);
      if (!before || !existsSync(file)) continue;
      const colour = escapesForbidden(process.env) ? '--color=never' : '--color=always';
      process.stdout.write(await diffAgainstApproved(output, before, readFileSync(file), [colour]));
    }
  }
}

export function askToApprove(pipeline: LoadedPipeline, nodes: readonly string[]): Promise<'yes' | 'no' | 'interrupted'> {
  const outputs = nodes.flatMap((node) => pipeline.config.nodes[node]!.outputs).join(', ');
  return askYesNo(`Review ${outputs}. Approve ${nodes.join(', ')} and continue? [y/N] `);
}
