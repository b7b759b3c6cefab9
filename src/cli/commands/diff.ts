import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LocalCache } from '../../cache/local-cache.js';
import { resolveCacheDir } from '../../cache/location.js';
import { isDirectoryOutput } from '../../files/output-hash.js';
import { Graph } from '../../graph/graph.js';
import { escapesForbidden } from '../../render/escapes.js';
import { BuildState } from '../../state/build-state.js';
import { UserError } from '../../util/errors.js';
import { hashBytes } from '../../util/hash.js';
import { parseCommandArgs } from '../args.js';
import { EXIT } from '../exit-codes.js';
import { openProject } from '../project.js';
import { approvedBytes, diffAgainstApproved } from '../approved-bytes.js';

export const help = `Usage: spx diff [options] [NODE...]

Shows what changed in the outputs of review nodes since they were approved:
a unified diff of each output file as it is now against the approved
version (in colour on a terminal). spx keeps the approved bytes in the
local cache when you approve, so this works offline, and in a clone that
restores the cache. Without NODE, every review node that has an approval.

Options:
      --cache-dir D  the cache directory (default: $SPX_CACHE_DIR, else .spx/cache)
  -f, --file FILE    pipeline file (default: spx.yaml here or in the nearest
                     directory above, up to the repository root)
  -C, --directory DIR
                     run as if started in DIR
  -h, --help         show this help

Exit codes: 0 shown (or nothing changed), 1 an approved version is not
available (never approved, or not in this cache), 2 usage or pipeline error.`;

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('diff', args, { 'cache-dir': { type: 'string' } });
  if (values.help) {
    console.log(help);
    return EXIT.ok;
  }
  const { pipeline, stateDir } = await openProject({ directory: values.directory, file: values.file });
  const state = BuildState.open(pipeline.root, stateDir, { readOnly: true });
  const reviewed = (node: string): boolean => {
    const config = pipeline.config.nodes[node]!;
    return 'review' in config && config.review;
  };
  const nodes = positionals.length > 0 ? new Graph(pipeline.config).resolve(positionals) : Object.keys(pipeline.config.nodes).filter((node) => reviewed(node) && state.get(node)?.approved !== undefined);
  for (const node of nodes) if (!reviewed(node)) throw new UserError(`node "${node}" has no review gate (review: true): there is no approved version to compare with`);
  const cache = new LocalCache(resolveCacheDir(values['cache-dir'], process.env, stateDir));
  let unavailable = 0;
  for (const node of nodes) {
    for (const output of pipeline.config.nodes[node]!.outputs) {
      if (isDirectoryOutput(output)) continue;
      const shown = await showChange(node, output, pipeline.root, state, cache);
      if (!shown) unavailable++;
    }
  }
  return unavailable > 0 ? EXIT.failed : EXIT.ok;
}

/** Prints the output's diff against its approved bytes; false when those are not available. */
async function showChange(node: string, output: string, root: string, state: BuildState, cache: LocalCache): Promise<boolean> {
  const approved = state.get(node)?.approvedOutputs?.[output];
  if (approved === undefined) {
    console.error(`spx: error: ${output} (${node}) has no approved version recorded: approve it (spx approve ${node}), then diff shows what changes after`);
    return false;
  }
  const file = join(root, output);
  const now = existsSync(file) ? readFileSync(file) : Buffer.alloc(0);
  if (hashBytes(now) === approved) {
    console.log(`${output} (${node}): unchanged since it was approved`);
    return true;
  }
  const before = approvedBytes(cache, approved);
  if (before === undefined) {
    console.error(
      `spx: error: the approved version of ${output} (${node}, ${approved.slice(0, 12)}) is not in the cache at ${cache.location}: ` +
        'it was approved on another machine, or the cache was cleared; restore the cache, or review the whole file',
    );
    return false;
  }
  const colour = process.stdout.isTTY === true && !escapesForbidden(process.env);
  process.stdout.write(await diffAgainstApproved(output, before, now, colour ? ['--color=always'] : ['--color=never']));
  return true;
}
