import { UserError } from '../util/errors.js';
import type { Locator, YamlPath } from './yaml-path.js';
import { closestName } from './suggest.js';
import type { PipelineConfig } from './types.js';

/**
 * What the schema cannot say of context nodes: `contains` compiles as a
 * regular expression, and `fromOutput` names another node of the pipeline.
 */
export function checkContextNodes(config: PipelineConfig, locator: Locator): UserError[] {
  const errors: UserError[] = [];
  const names = Object.keys(config.nodes);
  for (const [name, node] of Object.entries(config.nodes)) {
    if (node.kind !== 'context') continue;
    const { contains, fromOutput } = node.files;
    if (contains !== undefined) {
      try {
        new RegExp(contains);
      } catch (error) {
        const why = (error as Error).message.replace(/^Invalid regular expression: /, '');
        errors.push(new UserError(`files.contains of node "${name}" is not a valid regular expression: ${why}`, locator.value(['nodes', name, 'files', 'contains'])));
      }
    }
    if (fromOutput !== undefined) {
      const at = locator.value(['nodes', name, 'files', 'fromOutput']);
      if (fromOutput === name) {
        errors.push(new UserError(`node "${name}" cannot add files from its own output`, at));
      } else if (!(fromOutput in config.nodes)) {
        const close = closestName(fromOutput, names);
        const hint = close === undefined ? '' : ` (did you mean "${close}"?)`;
        errors.push(new UserError(`unknown node "${fromOutput}" in files.fromOutput of node "${name}"${hint}`, at));
      }
    }
  }
  return errors;
}

/**
 * Where a dependency is written: `files.fromOutput` for the `uses` edge a
 * context node gets from it (resolve adds it; the user never wrote it there).
 */
export function dependencyPath(config: PipelineConfig, name: string, field: 'needs' | 'uses', index: number): YamlPath {
  const node = config.nodes[name];
  if (node?.kind === 'context' && field === 'uses' && node.uses[index] === node.files.fromOutput) return ['nodes', name, 'files', 'fromOutput'];
  return ['nodes', name, field, index];
}
