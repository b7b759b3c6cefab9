import type { ContextNodeConfig } from '../../config/types.js';
import type { NodeKindHandler } from '../kind.js';
import { repomixVersion } from './repomix-version.js';
import { selectFiles } from './select-files.js';

/**
 * Bump when spx changes how it drives repomix (options it forces, how it
 * writes the bundle), so that bundles made the old way are rebuilt.
 */
const PACKING_FORMAT = 1;

/**
 * Selects project files and packs them with repomix into one bundle. The
 * selection is the node's triggering input, so a bundle is rebuilt only
 * when a selected file, the selection itself or a packing setting changed;
 * repomix is imported only then.
 */
export const contextKind: NodeKindHandler<ContextNodeConfig> = {
  settings(config) {
    // The selectors are absent on purpose: what they select enters the
    // fingerprint as inputs, so a rewritten glob that keeps the same files
    // rebuilds nothing.
    return {
      repomix: config.repomix,
      repomixVersion: repomixVersion(),
      packing: PACKING_FORMAT,
      maxTokens: config.maxTokens ?? null,
      outputs: config.outputs,
    };
  },

  selectInputs(config, context) {
    return selectFiles(config, context);
  },

  describe(config) {
    const flags = (['compress', 'removeComments', 'removeEmptyLines'] as const).filter((flag) => config.repomix[flag]);
    return `repomix (${[config.repomix.style, ...flags].join(', ')}) → ${config.output}`;
  },

  async run(config, context) {
    const { packBundle } = await import('./pack-bundle.js');
    return packBundle(config, context);
  },
};
