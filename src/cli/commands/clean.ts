import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { escapingLink } from '../../files/escaping-link.js';
import { Graph } from '../../graph/graph.js';
import { BuildLock } from '../../state/build-lock.js';
import { parseCommandArgs } from '../args.js';
import { EXIT } from '../exit-codes.js';
import { openProject } from '../project.js';
import { pathProblem } from '../../cache/verify-entry.js';
import type { NodeConfig } from '../../config/types.js';
import { BuildState } from '../../state/build-state.js';
import { forgetGone, goneOutputs } from '../../state/gone-outputs.js';
import { UserError } from '../../util/errors.js';
import { backUpOutput } from '../../state/backups.js';
import { StatCache } from '../../state/stat-cache.js';
import { hashOutput, isDirectoryOutput } from '../../files/output-hash.js';
import { ownEntry } from '../../util/name-table.js';
import type { LockEntry } from '../../state/lockfile.js';

export const help = `Usage: spx clean [options] [NODE...]

Removes the declared outputs of the named nodes (default: all), so that the
next build makes them again. spx.lock keeps its records, so status says
"output missing"; the cache is kept. An output that is not what spx wrote
(edited by hand) is copied to .spx/backups/NODE/ first, and clean says where.

With --gone, removes instead the outputs of nodes that left the pipeline:
instances of a feature whose directory was removed, nodes deleted from
spx.yaml. A build forgets them in spx.lock but leaves their files, which
are yours until you ask for this.

Options:
      --gone         remove the outputs of nodes no longer in the pipeline
  -n, --dry-run      list what would be removed
  -f, --file FILE    pipeline file (default: spx.yaml here or in the nearest
                     directory above, up to the repository root)
  -C, --directory DIR
                     run as if started in DIR
  -h, --help         show this help

Exit codes: 0 removed (or listed), 1 the project is locked by a build or an
output leads through a symlink out of the project (left alone), 2 usage error.`;

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('clean', args, { 'dry-run': { type: 'boolean', short: 'n' }, gone: { type: 'boolean' } });
  if (values.help) {
    console.log(help);
    return EXIT.ok;
  }
  const { pipeline, stateDir } = await openProject({ directory: values.directory, file: values.file });
  if (values.gone && positionals.length > 0) throw new UserError('--gone takes no NODE: it removes the outputs of every node that left the pipeline');
  // Only the named nodes, not what they need: cleaning a target must not
  // throw away the work of everything upstream of it.
  const graph = new Graph(pipeline.config);
  // A foreach node's bare name stands for all of its instances.
  const outputsOf = values.gone ? goneNodes(pipeline.config.nodes, pipeline.root, stateDir) : declaredOutputs(pipeline.config.nodes, positionals.length > 0 ? graph.resolve(positionals) : graph.names);
  const lock = values['dry-run'] ? undefined : await BuildLock.acquire(stateDir, { wait: false, onWait: () => undefined });
  if (typeof lock === 'string') {
    console.error(`spx: error: a build is running in ${lock}; clean after it ends`);
    return EXIT.failed;
  }
  let leftAlone = 0;
  const precious = values.gone ? () => false : handEditCheck(pipeline.root, stateDir);
  try {
    for (const [node, outputs] of outputsOf) {
      for (const output of outputs) {
        // Never through a link out of the project: what lies there is not the build's.
        const escape = escapingLink(pipeline.root, output);
        if (escape) {
          console.error(`spx: warning: left ${output} (${node}) alone: it leads through the symlink ${escape.link} to ${escape.target}, outside the project`);
          leftAlone++;
          continue;
        }
        if (precious(node, output)) {
          if (values['dry-run']) console.log(`would back up ${output} (${node}): it is not what spx wrote`);
          else {
            const backup = backUpOutput(pipeline.root, stateDir, node, output);
            if (backup) console.log(`backed up ${output} (${node}) to ${backup}: it is not what spx wrote`);
          }
        }
        console.log(`${values['dry-run'] ? 'would remove' : 'removed'} ${output} (${node})`);
        // Without the trailing "/": a directory output that is a link (inside the project) goes as a link, its target untouched.
        if (!values['dry-run']) rmSync(join(pipeline.root, output.replace(/\/$/, '')), { recursive: true, force: true });
      }
    }
    if (values.gone && !values['dry-run']) forgetGone(stateDir);
  } finally {
    lock?.release();
  }
  return leftAlone > 0 ? EXIT.failed : EXIT.ok;
}

/**
 * Whether an output holds what spx did not write, as regeneration judges it
 * (node-runner's backUpHandEdits): a hand edit of a recorded output, or a
 * file there before the node was ever recorded. A directory of unknown
 * origin is a build directory far more often than a human's work.
 */
function handEditCheck(root: string, stateDir: string): (node: string, output: string) => boolean {
  const recorded: Readonly<Record<string, LockEntry>> = BuildState.open(root, stateDir, { readOnly: true }).nodes();
  const statCache = StatCache.load(root, stateDir);
  return (node, output) => {
    const hash = hashOutput(statCache, root, output);
    if (hash === undefined) return false;
    const entry = Object.hasOwn(recorded, node) ? recorded[node] : undefined;
    if (!entry) return !isDirectoryOutput(output);
    return hash !== (ownEntry(entry.generated, output) ?? ownEntry(entry.outputs, output));
  };
}

function declaredOutputs(nodes: Readonly<Record<string, NodeConfig>>, names: readonly string[]): Map<string, readonly string[]> {
  return new Map(names.map((name) => [name, nodes[name]!.outputs]));
}

/**
 * The outputs of nodes that left the pipeline: those a build already forgot,
 * and those spx.lock still records (no build since). Both files can be
 * forged, so a path that is not a plain one inside the project is skipped.
 */
function goneNodes(nodes: Readonly<Record<string, NodeConfig>>, root: string, stateDir: string): Map<string, readonly string[]> {
  // A node that came back into the pipeline (its feature restored) is not gone.
  const gone = new Map<string, readonly string[]>(Object.entries(goneOutputs(stateDir)).filter(([node]) => !Object.hasOwn(nodes, node)));
  const recorded = BuildState.open(root, stateDir, { readOnly: true });
  for (const [node, entry] of Object.entries(recorded.nodes())) {
    if (!Object.hasOwn(nodes, node)) gone.set(node, Object.keys(entry.outputs));
  }
  for (const [node, outputs] of gone) {
    gone.set(
      node,
      outputs.filter((output) => {
        const problem = pathProblem(output.replace(/\/$/, ''));
        if (problem !== undefined) console.error(`spx: warning: left ${JSON.stringify(output)} (${node}) alone: the path ${problem}`);
        return problem === undefined;
      }),
    );
  }
  return gone;
}
