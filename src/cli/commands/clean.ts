import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { escapingLink } from '../../files/escaping-link.js';
import { Graph } from '../../graph/graph.js';
import { BuildLock } from '../../state/build-lock.js';
import { parseCommandArgs } from '../args.js';
import { EXIT } from '../exit-codes.js';
import { openProject } from '../project.js';

export const help = `Usage: spx clean [options] [NODE...]

Removes the declared outputs of the named nodes (default: all), so that the
next build makes them again. spx.lock keeps its records, so status says
"output missing"; the cache is kept.

Options:
  -n, --dry-run      list what would be removed
  -f, --file FILE    pipeline file (default: spx.yaml)
  -C DIR             run as if started in DIR
  -h, --help         show this help

Exit codes: 0 removed (or listed), 1 the project is locked by a build or an
output leads through a symlink out of the project (left alone), 2 usage error.`;

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('clean', args, { 'dry-run': { type: 'boolean', short: 'n' } });
  if (values.help) {
    console.log(help);
    return EXIT.ok;
  }
  const { pipeline, stateDir } = await openProject({ directory: values.directory, file: values.file });
  // Only the named nodes, not what they need: cleaning a target must not
  // throw away the work of everything upstream of it.
  const graph = new Graph(pipeline.config);
  // A foreach node's bare name stands for all of its instances.
  const nodes = positionals.length > 0 ? graph.resolve(positionals) : graph.names;
  const lock = values['dry-run'] ? undefined : await BuildLock.acquire(stateDir, { wait: false, onWait: () => undefined });
  if (typeof lock === 'string') {
    console.error(`spx: a build is running in ${lock}; clean after it ends`);
    return EXIT.failed;
  }
  let leftAlone = 0;
  try {
    for (const node of nodes) {
      for (const output of pipeline.config.nodes[node]!.outputs) {
        // Never through a link out of the project: what lies there is not the build's.
        const escape = escapingLink(pipeline.root, output);
        if (escape) {
          console.error(`spx: left ${output} (${node}) alone: it leads through the symlink ${escape.link} to ${escape.target}, outside the project`);
          leftAlone++;
          continue;
        }
        console.log(`${values['dry-run'] ? 'would remove' : 'removed'} ${output} (${node})`);
        // Without the trailing "/": a directory output that is a link (inside the project) goes as a link, its target untouched.
        if (!values['dry-run']) rmSync(join(pipeline.root, output.replace(/\/$/, '')), { recursive: true, force: true });
      }
    }
  } finally {
    lock?.release();
  }
  return leftAlone > 0 ? EXIT.failed : EXIT.ok;
}
