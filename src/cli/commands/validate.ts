import { parseCommandArgs } from '../args.js';
import { EXIT } from '../exit-codes.js';
import { openProject, projectFile } from '../project.js';

export const help = `Usage: spx validate [options]

Checks the pipeline file against spx's schema and rules (unknown keys,
types, unknown or cyclic dependencies, clashing or escaping outputs) and
prints every problem as file:line:column. Runs nothing.

Options:
  -f, --file FILE    pipeline file (default: spx.yaml)
  -C DIR             run as if started in DIR
  -h, --help         show this help

Exit codes: 0 valid, 2 invalid.`;

export async function run(args: string[]): Promise<number> {
  const { values } = parseCommandArgs('validate', args, {});
  if (values.help) {
    console.log(help);
    return EXIT.ok;
  }
  const { pipeline } = await openProject({ directory: values.directory, file: values.file });
  const count = Object.keys(pipeline.config.nodes).length;
  console.log(`${projectFile({ directory: values.directory, file: values.file })}: valid (${count} node${count === 1 ? '' : 's'})`);
  return EXIT.ok;
}
