import path from 'node:path';
import { loadPipeline } from '../../config/load.js';
import { parseCommandArgs } from '../args.js';
import { EXIT } from '../exit-codes.js';
import { projectFile } from '../project.js';
import { ignoredOutputs, ignoredOutputWarning } from '../ignored-outputs.js';

export const help = `Usage: spx validate [options]

Checks the pipeline file against spx's schema and rules (unknown keys,
types, unknown or cyclic dependencies, clashing or escaping outputs) and
prints every problem as file:line:column. With extends, the base pipeline
is checked too. Runs nothing and writes nothing: the file is checked
afresh, never served from the config cache in .spx/. Warns when the output
of a node that calls a model or an agent lies in a path git ignores while
spx.lock is committed: a fresh clone would run that node again.

Options:
  -f, --file FILE    pipeline file (default: spx.yaml here or in the nearest
                     directory above, up to the repository root)
  -C, --directory DIR
                     run as if started in DIR
  -h, --help         show this help

Exit codes: 0 valid, 2 invalid.`;

export async function run(args: string[]): Promise<number> {
  const { values } = parseCommandArgs('validate', args, {});
  if (values.help) {
    console.log(help);
    return EXIT.ok;
  }
  const file = projectFile({ directory: values.directory, file: values.file });
  // Checked afresh, not served from the config cache, and nothing written:
  // validate may be pointed at any file, such as a pipeline that ships with spx.
  const pipeline = await loadPipeline(file, { root: path.dirname(file), cache: false });
  const count = Object.keys(pipeline.config.nodes).length;
  console.log(`${file}: valid (${count} node${count === 1 ? '' : 's'})`);
  for (const item of await ignoredOutputs(pipeline.root, pipeline.config.nodes, new AbortController().signal)) {
    console.log(`warning: ${item.node}: ${ignoredOutputWarning(item)}`);
  }
  return EXIT.ok;
}
