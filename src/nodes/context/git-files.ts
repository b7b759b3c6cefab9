import { decodeName, displayName } from '../../files/file-name.js';
import type { InputResolver } from '../../files/input-resolver.js';
import { describeExit, type ProcessResult } from '../../util/child-process.js';
import { runGit } from '../../util/git.js';
import { NodeFailure } from '../kind.js';

/** What git knows of the project's files, paths relative to the project root. */
export interface GitFiles {
  tracked: ReadonlySet<string>;
  /** Untracked and not ignored (.gitignore, .git/info/exclude, the global excludes file). */
  untracked: ReadonlySet<string>;
  /** Tracked but deleted from the working tree. */
  deleted: ReadonlySet<string>;
  /**
   * Tracked or untracked files whose path is not UTF-8, so that no string
   * path reaches them: `lossy` (invalid bytes as U+FFFD) for matching,
   * `shown` (escaped) for the warning.
   */
  unaddressable: readonly { lossy: string; shown: string }[];
}

/**
 * One `git ls-files` per build (the resolver forgets it when a node has
 * written files), or undefined when the root is not in a git work tree:
 * this is how a selection leaves out ignored files without parsing
 * .gitignore itself.
 */
export function gitFiles(root: string, resolver: InputResolver, signal: AbortSignal): Promise<GitFiles | undefined> {
  return resolver.memo('context:git-ls-files', () => listGitFiles(root, signal));
}

async function listGitFiles(root: string, signal: AbortSignal): Promise<GitFiles | undefined> {
  // -t tags each path: H tracked, R deleted (listed again by -d), ? untracked.
  // -z: paths as they are, not quoted, whatever bytes they hold.
  const result = await runGit(['ls-files', '-z', '-t', '--cached', '--others', '--deleted', '--exclude-standard'], { cwd: root, signal });
  if (result.interrupted) throw new NodeFailure('interrupted');
  // Not a work tree, or no git at all: the caller walks the directory instead.
  if (result.exitCode !== 0) return undefined;
  const out = result.stdoutBytes;
  const tracked = new Set<string>();
  const untracked = new Set<string>();
  const deleted = new Set<string>();
  const unaddressable: { lossy: string; shown: string }[] = [];
  for (const { entry, bytes } of entries(out)) {
    if (entry.length < 3) continue;
    if (bytes !== undefined) {
      if (entry[0] !== 'R') unaddressable.push({ lossy: entry.slice(2), shown: displayName(bytes.subarray(2)) });
      continue;
    }
    const path = entry.slice(2);
    if (entry[0] === '?') untracked.add(path);
    else if (entry[0] === 'R') deleted.add(path);
    else tracked.add(path);
  }
  return { tracked, untracked, deleted, unaddressable };
}

/** NUL-separated entries; `bytes` is kept only for one that is not UTF-8 (its `entry` then holds U+FFFD). */
function* entries(out: Buffer): Generator<{ entry: string; bytes?: Buffer }> {
  const text = out.toString('utf8');
  // The usual case, every name UTF-8, costs one decode.
  if (!text.includes('\uFFFD')) {
    for (const entry of text.split('\0')) yield { entry };
    return;
  }
  for (let start = 0; start < out.length; ) {
    let end = out.indexOf(0, start);
    if (end < 0) end = out.length;
    const bytes = out.subarray(start, end);
    const entry = decodeName(bytes);
    yield entry === undefined ? { entry: bytes.toString('utf8'), bytes } : { entry };
    start = end + 1;
  }
}

/**
 * Files that differ between the merge base of `ref` and HEAD and the
 * working tree: what the current branch changed, committed or not (like
 * `git diff --name-only ref...` plus uncommitted edits). Untracked files are
 * the caller's to add. Paths relative to the root, which may be a
 * subdirectory of the repository.
 */
export function changedSince(root: string, ref: string, resolver: InputResolver, signal: AbortSignal): Promise<ReadonlySet<string>> {
  return resolver.memo(`context:changed-since:${ref}`, async () => {
    const result = await runGit(['diff', '--name-only', '-z', '--no-renames', '--relative', '--merge-base', ref, '--'], { cwd: root, signal });
    if (result.interrupted) throw new NodeFailure('interrupted');
    if (result.exitCode !== 0) throw new NodeFailure(`files.changedSince: git cannot compare with "${ref}": ${gitComplaint(result)}`);
    return new Set(result.stdout.split('\0').filter((path) => path !== ''));
  });
}

/** git's first line on stderr, without its "fatal: ", or how it ended when it said nothing. */
function gitComplaint(result: ProcessResult): string {
  const first = result.stderr.split('\n').find((line) => line.trim() !== '');
  return first?.replace(/^fatal: /, '') ?? `git ${describeExit(result)}`;
}
