import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fillPlaceholders, placeholdersIn } from '../config/foreach.js';
import { isSafeValue } from '../config/instances.js';
import { USER_SPEC_TEMPLATE } from './user-spec-template.js';
import type { PipelineConfig } from '../config/types.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { UserError } from '../util/errors.js';


/**
 * `spx new NAME`: the file that makes a feature exist, at the path the
 * pipeline's first foreach pattern gives it (`features/NAME/USER-SPEC.md`),
 * from the USER-SPEC template with its title filled in. With several
 * placeholders, NAME gives their values joined with "/" in the pattern's order.
 */
export function createFeature(config: PipelineConfig, root: string, name: string): { file: string; pattern: string } {
  const pattern = Object.values(config.nodes).find((node) => node.foreach !== undefined)?.foreach;
  if (pattern === undefined) {
    throw new UserError('the pipeline has no foreach node, so it knows no features: add "foreach: features/{feature}/USER-SPEC.md" to its spec, plan and execute nodes (or start from spx init --pipeline features)');
  }
  const placeholders = placeholdersIn(pattern);
  const values = name.split('/');
  if (values.length !== placeholders.length) {
    throw new UserError(`foreach ${pattern} takes ${placeholders.length} value${placeholders.length === 1 ? '' : 's'} (${placeholders.map((p) => `{${p}}`).join('/')}); got "${name}"`);
  }
  const bad = values.find((value) => !isSafeValue(value));
  if (bad !== undefined) throw new UserError(`"${bad}" cannot name a feature: use letters, digits, ".", "_" and "-", not beginning with "." or "-"`);
  const file = fillPlaceholders(pattern, Object.fromEntries(placeholders.map((placeholder, i) => [placeholder, values[i]!])));
  const absolute = path.join(root, file);
  if (existsSync(absolute)) throw new UserError(`${file} already exists: the feature "${name}" is there`);
  mkdirSync(path.dirname(absolute), { recursive: true });
  const template = readFileSync(USER_SPEC_TEMPLATE, 'utf8').replace(/^# <Title: [^>]*>/, `# ${name}: <the change you want, in a few words>`);
  writeFileAtomic(absolute, template);
  return { file, pattern };
}
