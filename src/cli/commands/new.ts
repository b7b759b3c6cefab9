import { createFeature } from '../../init/new-feature.js';
import { UserError } from '../../util/errors.js';
import { parseCommandArgs } from '../args.js';
import { EXIT } from '../exit-codes.js';
import { openProject } from '../project.js';

export const help = `Usage: spx new [options] NAME

Starts a feature: writes its USER-SPEC.md from the template, at the path the
pipeline's foreach pattern gives it (features/NAME/USER-SPEC.md in the
features pipeline). Every foreach node then has an instance for it
(spec:NAME, plan:NAME, execute:NAME). NAME is letters, digits, ".", "_" and
"-"; with a pattern of several placeholders, their values joined with "/".

Options:
  -f, --file FILE    pipeline file (default: spx.yaml here or in the nearest
                     directory above, up to the repository root)
  -C, --directory DIR
                     run as if started in DIR
  -h, --help         show this help

Exit codes: 0 written, 2 no foreach node, a bad or existing NAME, or another usage error.`;

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('new', args, {});
  if (values.help) {
    console.log(help);
    return EXIT.ok;
  }
  if (positionals.length !== 1) throw new UserError(`spx new takes one NAME (got ${positionals.length}): spx new login`);
  const name = positionals[0]!;
  const { pipeline } = await openProject({ directory: values.directory, file: values.file, expand: false });
  const { file } = createFeature(pipeline.config, pipeline.root, name);
  console.log(`spx new: wrote ${file}; describe the feature there, then: spx build`);
  return EXIT.ok;
}
