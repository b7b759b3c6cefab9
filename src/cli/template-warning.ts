import type { LoadedPipeline } from '../config/types.js';
import { Graph } from '../graph/graph.js';
import type { Renderer } from '../render/renderer.js';

/**
 * Before any model call: a USER-SPEC.md still as spx init wrote it would send
 * the template's placeholders to the model. Said, not refused (the build may
 * be a test of the set-up); a rehearsal calls no model and hears nothing.
 */
export async function warnOfTemplateSpecs(pipeline: LoadedPipeline, targets: string[], renderer: Renderer): Promise<void> {
  const nodes = new Graph(pipeline.config).closure(targets).filter((node) => {
    const config = pipeline.config.nodes[node]!;
    return 'provider' in config && config.provider.type !== 'echo';
  });
  // A pipeline of run nodes loads none of this.
  if (nodes.length === 0) return;
  const { untouchedTemplates } = await import('../init/user-spec-template.js');
  for (const { node, file } of untouchedTemplates(pipeline.config, pipeline.root, nodes)) {
    renderer.handle({ type: 'warning', node, message: `${file} is still the template spx wrote: describe the change you want in it, or the model gets its placeholders` });
  }
}
