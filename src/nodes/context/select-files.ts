import { execFileSync } from 'node:child_process';
import picomatch from 'picomatch';
import type { ContextNodeConfig } from '../../config/types.js';
import type { InputResolver } from '../../files/input-resolver.js';
import { NodeFailure, type SelectionContext } from '../kind.js';
import { ContentCache } from './content-cache.js';
import { changedSince, gitFiles, type GitFiles } from './git-files.js';
import { pathLikeWords, projectPath } from './mentioned-paths.js';

/**
 * The files a context node bundles, sorted:
 *
 *     ( include ∩ contains ∩ changedSince )  ∪  fromCommand  ∪  fromOutput
 *     minus exclude, minus what git ignores, minus spx's own files
 *
 * `contains` and `changedSince` narrow the globbed base; the additions are
 * named explicitly and are not narrowed, but exclude and .gitignore apply to
 * every file, whoever chose it. Only existing files are selected.
 *
 * Runs on every build, fresh or not: content is read only for `contains`
 * (and the fromOutput documents) and only when the stat cache reports a new
 * hash; git runs once per build.
 */
export function selectFiles(config: ContextNodeConfig, context: SelectionContext): string[] {
  const { root, resolver } = context;
  const { files } = config;
  const git = files.gitignore || files.changedSince !== undefined ? gitFiles(root, resolver) : undefined;
  const project = files.gitignore && git ? listedByGit(git) : walked(resolver);

  const include = files.include.filter((glob) => !glob.startsWith('!'));
  const negated = files.include.filter((glob) => glob.startsWith('!')).map((glob) => glob.slice(1));
  const excluded = picomatch([...files.exclude, ...negated], { dot: true });
  const spxOwn = spxOwnFiles(config);
  const leftOut = (file: string): boolean => spxOwn(file) || excluded(file);

  const exists = (file: string): boolean => context.hashFile(file) !== undefined;

  let base = include.length === 0 ? [] : project.matching(include).filter((file) => !leftOut(file));
  if (files.changedSince !== undefined) {
    if (!git) throw new NodeFailure(`files.changedSince needs a git work tree, and ${root} is not in one`);
    const changed = changedSince(root, files.changedSince, resolver);
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

  const named = [
    ...(files.fromCommand === undefined ? [] : commandPaths(files.fromCommand, root, resolver)),
    ...(files.fromOutput === undefined ? [] : mentionedPaths(files.fromOutput, context, cache!)),
  ];
  const added = named.filter((file) => project.admits(file) && !leftOut(file) && exists(file));
  cache?.save();
  return [...new Set([...base, ...added])].sort();
}

/** The project's files as a selection sees them. */
interface ProjectFiles {
  /** Files matching the globs (a literal path may name a missing file: existence is checked later). */
  matching(globs: string[]): string[];
  /** Whether a path named by a command or a document may be selected (existence is checked later). */
  admits(file: string): boolean;
}

function listedByGit(git: GitFiles): ProjectFiles {
  const all = new Set([...git.tracked, ...git.untracked].filter((file) => !git.deleted.has(file)));
  return {
    matching: (globs) => {
      const isMatch = picomatch(globs, { dot: true });
      return [...all].filter((file) => isMatch(file));
    },
    admits: (file) => all.has(file),
  };
}

/** Outside git (or with `gitignore: false`): the resolver's walk, which skips only .git/ and .spx/. */
function walked(resolver: InputResolver): ProjectFiles {
  return {
    matching: (globs) => resolver.resolve(globs),
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

function commandPaths(command: string, root: string, resolver: InputResolver): string[] {
  return resolver.memo(`context:from-command:${command}`, () => {
    let out: string;
    try {
      out = execFileSync('sh', ['-c', command], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
    } catch (error) {
      const { status, signal, stderr } = error as { status?: number | null; signal?: string | null; stderr?: string };
      const how = signal ? `was killed by ${signal}` : typeof status === 'number' ? `exited with code ${status}` : `could not run (${(error as Error).message})`;
      const detail = typeof stderr === 'string' && stderr.trim() !== '' ? `: ${stderr.trim().split('\n').slice(-3).join(' | ')}` : '';
      throw new NodeFailure(`files.fromCommand ${how}: ${command}${detail}`);
    }
    return out.split('\n').flatMap((line) => projectPath(line, root) ?? []);
  });
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
  for (const document of documents) {
    const hash = context.hashFile(document);
    if (hash === undefined) continue;
    for (const word of cache.mentions(context.root, document, hash, pathLikeWords)) {
      const file = projectPath(word, context.root);
      if (file !== undefined) paths.push(file);
    }
  }
  return paths;
}
