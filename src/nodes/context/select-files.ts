import { lstatSync, statSync } from 'node:fs';
import type { ContextNodeConfig } from '../../config/types.js';
import { displayName } from '../../files/file-name.js';
import { globMatcher, notUtf8Message, type InputResolver, type LeftOut } from '../../files/input-resolver.js';
import { ProjectBoundary } from '../../files/project-boundary.js';
import { describeExit, runProcess } from '../../util/child-process.js';
import { NodeFailure, type SelectionContext } from '../kind.js';
import { ContentCache } from './content-cache.js';
import { changedSince, gitFiles, type GitFiles } from './git-files.js';
import { pathLikeWords, projectPath } from './mentioned-paths.js';

/**
 * The files a context node bundles, sorted:
 *
 *     ( include ∩ contains ∩ changedSince )  ∪  fromCommand  ∪  fromOutput
 *     minus exclude, minus what git ignores (and node_modules/, dist/),
 *     minus spx's own files
 *
 * `contains` and `changedSince` narrow the globbed base; the additions are
 * named explicitly and are not narrowed, but exclude and .gitignore apply to
 * every file, whoever chose it. Only existing regular files whose real
 * path is inside the project are selected (docs/security.md): a committed symlink
 * to `~/.ssh/config`, a symlinked directory leading out, a FIFO, or a name
 * that is not UTF-8 is left out, and the node's warnings name it. A file
 * outside is never read, not even to hash it.
 *
 * Runs on every build, fresh or not: content is read only for `contains`
 * (and the fromOutput documents) and only when the stat cache reports a new
 * hash; git runs once per build.
 */
export async function selectFiles(config: ContextNodeConfig, context: SelectionContext): Promise<string[]> {
  const { root, resolver, signal } = context;
  const { files } = config;
  const git = files.gitignore || files.changedSince !== undefined ? await gitFiles(root, resolver, signal) : undefined;
  // What git ignores or changed, and what a command prints, rest on more than the files and listings a witness sees.
  if (git) resolver.witness?.cannotVouch('a context node asks git which files count');
  if (files.fromCommand !== undefined) resolver.witness?.cannotVouch('a context node runs a command to select files');
  const project = files.gitignore && git ? listedByGit(git, context.leftOut) : walked(resolver, context.leftOut);

  const include = files.include.filter((glob) => !glob.startsWith('!'));
  const negated = files.include.filter((glob) => glob.startsWith('!')).map((glob) => glob.slice(1));
  const excluded = globMatcher([...files.exclude, ...negated, ...(files.gitignore ? USUALLY_IGNORED : [])]);
  const spxOwn = spxOwnFiles(config);
  const leftOut = (file: string): boolean => spxOwn(file) || excluded(file);

  const boundary = resolver.memo('context:boundary', () => new ProjectBoundary(root));
  const exists = (file: string): boolean => {
    const location = boundary.locate(file);
    if (location === 'outside') context.leftOut(`left out ${displayName(file)}: its real path is outside the project (a symlink leads out)`);
    if (location !== 'inside') return false;
    if (context.hashFile(file) !== undefined) return true;
    // Not a regular file: a directory is simply not a file, anything else is worth a word.
    const stats = statSync(`${root}/${file}`, { throwIfNoEntry: false });
    if (stats && !stats.isDirectory()) context.leftOut(`left out ${displayName(file)}: not a regular file (a FIFO, socket or device is never read)`);
    return false;
  };

  let base = include.length === 0 ? [] : project.matching(include, leftOut).filter((file) => !leftOut(file));
  if (files.changedSince !== undefined) {
    if (!git) throw new NodeFailure(`files.changedSince needs a git work tree, and ${root} is not in one`);
    const changed = await changedSince(root, files.changedSince, resolver, signal);
    // A file git does not track is not in the ref either: it changed.
    base = base.filter((file) => changed.has(file) || !git.tracked.has(file));
  }
  base = base.filter(exists);

  // Loaded only by the selectors that read content.
  const cache = files.contains !== undefined || files.fromOutput !== undefined ? ContentCache.for(context.stateDir) : undefined;
  if (files.contains !== undefined) {
    const regex = new RegExp(files.contains, 'm');
    base = base.filter((file) => cache!.contains(regex, root, file, context.hashFile(file)!));
  }

  const mentioned = files.fromOutput === undefined ? [] : mentionedPaths(files.fromOutput, context, cache!);
  const named = [...(files.fromCommand === undefined ? [] : await commandPaths(files.fromCommand, context)), ...mentioned];
  const added = named.filter((file) => project.admits(file) && !leftOut(file) && exists(file));
  if (files.fromOutput !== undefined) noteMissing(files.fromOutput, mentioned, leftOut, context);
  cache?.save();
  return [...new Set([...base, ...added])].sort();
}

/**
 * What every JavaScript project's .gitignore leaves out, left out even
 * where there is no .gitignore (or no git): installed dependencies and build
 * output are not the project's code, and would swamp a bundle.
 * `files.gitignore: false` brings them back.
 */
const USUALLY_IGNORED = ['**/node_modules/**', '**/dist/**'];

/** The project's files as a selection sees them. */
interface ProjectFiles {
  /**
   * Files matching the globs (a literal path may name a missing file:
   * existence is checked later). A match whose name is not UTF-8 is left
   * out, with a warning unless `ignored` says the selection excludes it anyway.
   */
  matching(globs: string[], ignored: (file: string) => boolean): string[];
  /** Whether a path named by a command or a document may be selected (existence is checked later). */
  admits(file: string): boolean;
}

function listedByGit(git: GitFiles, warn: LeftOut): ProjectFiles {
  const all = new Set([...git.tracked, ...git.untracked].filter((file) => !git.deleted.has(file)));
  return {
    matching: (globs, ignored) => {
      const isMatch = globMatcher(globs);
      for (const { lossy, shown } of git.unaddressable) if (isMatch(lossy) && !ignored(lossy)) warn(notUtf8Message(shown), lossy);
      return [...all].filter((file) => isMatch(file));
    },
    admits: (file) => all.has(file),
  };
}

/** Outside git (or with `gitignore: false`): the resolver's walk, which skips only .git/ and .spx/. */
function walked(resolver: InputResolver, warn: LeftOut): ProjectFiles {
  return {
    matching: (globs, ignored) => resolver.resolve(globs, (message, matched) => ignored(matched) || warn(message, matched)),
    admits: () => true,
  };
}

/**
 * Never bundled: spx's state (a bundle must not change because the build
 * that made it was recorded) and the bundle itself.
 */
function spxOwnFiles(config: ContextNodeConfig): (file: string) => boolean {
  const outputs = config.outputs.map((output) => output.replace(/\/$/, ''));
  return (file) =>
    file === 'spx.lock' ||
    file.startsWith('.spx/') ||
    file.startsWith('.git/') ||
    outputs.some((output) => file === output || file.startsWith(`${output}/`));
}

function commandPaths(command: string, { root, resolver, signal }: SelectionContext): Promise<string[]> {
  return resolver.memo(`context:from-command:${command}`, async () => {
    const result = await runProcess('/bin/sh', ['-c', command], { cwd: root, signal });
    if (result.interrupted) throw new NodeFailure('interrupted');
    if (result.exitCode !== 0) {
      const stderr = result.stderr.trim();
      const detail = stderr === '' ? '' : `: ${stderr.split('\n').slice(-3).join(' | ')}`;
      throw new NodeFailure(`files.fromCommand ${describeExit(result)}: ${command}${detail}`);
    }
    return result.stdout.split('\n').flatMap((line) => projectPath(line, root) ?? []);
  });
}

/** How many missing names a warning lists. */
const MISSING_LISTED = 10;

/**
 * A document that names files which do not exist (a plan's new files, or
 * a wrong path) still gives a bundle, of the files that do; the names that
 * look like file paths (a directory and an extension: `src/new.ts`, not
 * `e.g.` or `v1.2`) and are missing are said in one warning, so that a
 * misspelt path does not silently leave the agent without a file.
 */
function noteMissing(source: string, mentioned: string[], leftOut: (file: string) => boolean, context: SelectionContext): void {
  const looksLikeFile = (file: string): boolean => file.includes('/') && !file.includes(':') && /\.[A-Za-z0-9]{1,10}$/.test(file);
  const missing = [...new Set(mentioned)]
    .filter((file) => looksLikeFile(file) && !leftOut(file) && lstatSync(`${context.root}/${file}`, { throwIfNoEntry: false }) === undefined)
    .sort();
  if (missing.length === 0) return;
  const listed = missing.slice(0, MISSING_LISTED).map(displayName);
  if (missing.length > listed.length) listed.push(`and ${missing.length - listed.length} more`);
  context.leftOut(
    `${source} names ${missing.length === 1 ? 'a file that does' : `${missing.length} files that do`} not exist (new files it will create, or a wrong path); the bundle holds the others: ${listed.join(', ')}`,
  );
}

/** Path-like words of the files `source` wrote, as they are now (a hand edit included). */
function mentionedPaths(source: string, context: SelectionContext, cache: ContentCache): string[] {
  const entry = context.recorded(source);
  // Not built yet: in a build it is (it is ordered first); `status` then has nothing to follow.
  if (!entry) return [];
  const documents = Object.keys(entry.outputs).flatMap((output) =>
    output.endsWith('/') ? context.resolver.resolve([`${output}**`]) : [output],
  );
  const paths: string[] = [];
  const boundary = context.resolver.memo('context:boundary', () => new ProjectBoundary(context.root));
  for (const document of documents) {
    // A document is read to follow it: never through a link out of the project.
    if (boundary.locate(document) !== 'inside') continue;
    const hash = context.hashFile(document);
    if (hash === undefined) continue;
    for (const word of cache.mentions(context.root, document, hash, pathLikeWords)) {
      const file = projectPath(word, context.root);
      if (file !== undefined) paths.push(file);
    }
  }
  return paths;
}
