import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import type { LoadedPipeline } from '../../config/types.js';
import { pendingReview } from '../../state/approval.js';
import { readRecorded } from '../../state/build-state.js';
import type { LockEntry } from '../../state/lockfile.js';
import { UserError } from '../../util/errors.js';
import { runGit } from '../../util/git.js';
import { parseCommandArgs } from '../args.js';
import { EXIT } from '../exit-codes.js';
import { openProject } from '../project.js';
import { patchedFiles, type PatchedFile } from '../patch-files.js';

export const help = `Usage: spx why [options] FILE

Says which execute node (or foreach instance) changed FILE through its
patch, from which plan and spec (their outputs, short hashes from spx.lock,
and whether they are approved), and whether FILE has changed since the
patch. Reads spx.lock and the patches only: no model call, no key.

Options:
  -f, --file FILE    pipeline file (default: spx.yaml here or in the nearest
                     directory above, up to the repository root)
  -C, --directory DIR
                     run as if started in DIR (FILE is then relative to DIR)
  -h, --help         show this help

Exit codes: 0 found, 1 no execute node's patch touches FILE, 2 usage or pipeline error.`;

/** One execute node whose recorded patch touches the file. */
interface Change {
  node: string;
  patch: string;
  /** When the patch was written: the newest change is the last one. */
  written: number;
  file: PatchedFile;
}

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('why', args, {});
  if (values.help) {
    console.log(help);
    return EXIT.ok;
  }
  if (positionals.length !== 1) throw new UserError('spx why takes one FILE (see: spx why --help)');
  const { pipeline, stateDir } = await openProject({ directory: values.directory, file: values.file });
  const recorded = readRecorded(pipeline.root, stateDir);
  const repoRoot = await repositoryRoot(pipeline.root);
  // From the project's root first: git gives the work tree's real path, the project's may hold a symlink.
  const fromRoot = relative(pipeline.root, resolve(values.directory ?? '.', positionals[0]!));
  const target = relative(repoRoot, join(realpathSync(pipeline.root), fromRoot)).split('\\').join('/');
  const { changes, missing } = changesOf(pipeline, recorded, target);
  changes.sort((a, b) => b.written - a.written);
  if (changes.length === 0) {
    // A fresh clone has no patch kept out of git: say so rather than suggest no agent touched the file.
    const unread = missing.length > 0 ? ` (patches recorded but not on disk: ${missing.join(', ')})` : '';
    console.log(`no execute node's patch recorded in spx.lock touches ${target}${unread}`);
    return EXIT.failed;
  }
  for (const [i, change] of changes.entries()) {
    const entry = recorded[change.node]!;
    console.log(`${target} was ${i === 0 ? 'last ' : 'also '}changed by ${change.node} (patch ${change.patch} ${short(entry.outputs[change.patch])})`);
    for (const upstream of upstreamThroughNeeds(pipeline, change.node)) console.log(`  from ${describeUpstream(pipeline, upstream, recorded[upstream])}`);
    if (i === 0) console.log(`  ${await sinceThePatch(repoRoot, target, change.file)}`);
  }
  return EXIT.ok;
}

/** The recorded execute nodes whose patch on disk touches `target` (a path from the repository's root). */
function changesOf(pipeline: LoadedPipeline, recorded: Readonly<Record<string, LockEntry>>, target: string): { changes: Change[]; missing: string[] } {
  const changes: Change[] = [];
  const missing: string[] = [];
  for (const [node, config] of Object.entries(pipeline.config.nodes)) {
    if (config.kind !== 'execute' || !recorded[node]) continue;
    const patch = config.outputs[0]!;
    const file = resolve(pipeline.root, patch);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      missing.push(patch);
      continue;
    }
    const touched = patchedFiles(text).find((patched) => patched.to === target || patched.from === target);
    if (touched) changes.push({ node, patch, written: statSync(file).mtimeMs, file: touched });
  }
  return { changes, missing };
}

/** The plan, the spec and so on: what the execute node needs, nearest first. */
function upstreamThroughNeeds(pipeline: LoadedPipeline, node: string): string[] {
  const seen: string[] = [];
  const queue = [...pipeline.config.nodes[node]!.needs];
  while (queue.length > 0) {
    const next = queue.shift()!;
    if (seen.includes(next)) continue;
    seen.push(next);
    queue.push(...(pipeline.config.nodes[next]?.needs ?? []));
  }
  return seen;
}

function describeUpstream(pipeline: LoadedPipeline, node: string, entry: LockEntry | undefined): string {
  const config = pipeline.config.nodes[node]!;
  const outputs = config.outputs.map((output) => `${output} ${short(entry?.outputs[output])}`).join(', ');
  const review = !('review' in config) || !config.review ? 'no review gate' : pendingReview(config, entry) === undefined ? 'approved' : 'not approved as recorded';
  return `${config.kind} ${node}: ${entry ? outputs : 'never built'}${entry ? `, ${review}` : ''}`;
}

function short(hash: string | undefined): string {
  return hash === undefined ? '(not recorded)' : hash.slice(0, 12);
}

/** Whether the file is as the patch left it: its blob against the patch's post-image. */
async function sinceThePatch(repoRoot: string, target: string, file: PatchedFile): Promise<string> {
  const options = { cwd: repoRoot, signal: new AbortController().signal };
  if (file.to !== target) return existsSync(join(repoRoot, target)) ? `${target} has changed since: the patch deleted or moved it, and it is back` : `${target} is as the patch left it (deleted or moved)`;
  if (file.postImage === undefined) return `whether ${target} changed since is unknown: the patch names no blob for it`;
  const hashed = await runGit(['hash-object', '--', target], options);
  if (hashed.exitCode !== 0) return `${target} has changed since: it is gone`;
  return hashed.stdout.trim().startsWith(file.postImage) ? `${target} is as the patch left it` : `${target} has changed since the patch`;
}

/** Patches name files from the top of the git work tree; outside one, from the project's root. */
async function repositoryRoot(directory: string): Promise<string> {
  const result = await runGit(['rev-parse', '--show-toplevel'], { cwd: directory, signal: new AbortController().signal });
  return result.exitCode === 0 ? result.stdout.trim() : directory;
}
