import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { git, gitSucceeds } from './git.js';

/**
 * A scratch git worktree holding a snapshot of the user's working tree as
 * it is now: committed work, uncommitted edits and new untracked files
 * alike, so the agent sees what the user sees, and nothing the agent does
 * touches the user's tree.
 */
export class ScratchWorktree {
  private constructor(
    /** The repository's top directory (the user's). */
    readonly repoRoot: string,
    /** The worktree's top directory. */
    readonly path: string,
    /** The commit the worktree started from: the snapshot. */
    readonly base: string,
    /** The project root's place inside the repository ('' at the top). */
    readonly prefix: string,
    /** Linked paths, relative to the repository: never part of the change. */
    private readonly linked: string[],
    /** The file under .spx/ that says this worktree exists, until it is removed. */
    private readonly record: string,
  ) {}

  /**
   * Removes the worktrees an earlier build left (it was killed with -9, or
   * kept one for the user to inspect a change that failed verification).
   * Called before this build makes any: the project lock keeps other builds
   * of the project out, so every recorded worktree is a leftover.
   */
  static async removeLeftovers(repoRoot: string, stateDir: string): Promise<void> {
    const records = join(stateDir, 'execute', 'worktrees');
    let names: string[];
    try {
      names = readdirSync(records);
    } catch {
      return;
    }
    const signal = new AbortController().signal;
    for (const name of names) {
      const path = readFileSync(join(records, name), 'utf8');
      await gitSucceeds(['worktree', 'remove', '--force', path], { cwd: repoRoot, signal });
      rmSync(path, { recursive: true, force: true });
      rmSync(join(records, name), { force: true });
    }
    await gitSucceeds(['worktree', 'prune'], { cwd: repoRoot, signal });
  }

  /** The project root inside the worktree: where the agent and verify commands run. */
  get projectDir(): string {
    return join(this.path, this.prefix);
  }

  static async create(options: {
    repoRoot: string;
    projectRoot: string;
    stateDir: string;
    node: string;
    link: readonly string[];
    signal: AbortSignal;
  }): Promise<ScratchWorktree> {
    const { repoRoot, projectRoot, stateDir, node, signal } = options;
    const prefix = relative(repoRoot, projectRoot);
    const scratch = join(stateDir, 'execute', node);
    mkdirSync(scratch, { recursive: true });
    // A private index, so that snapshotting never disturbs what the user staged.
    const env = { GIT_INDEX_FILE: join(scratch, 'snapshot-index') };
    rmSync(env.GIT_INDEX_FILE, { force: true });
    const hasHead = await gitSucceeds(['rev-parse', '--verify', '--quiet', 'HEAD'], { cwd: repoRoot, signal });
    await git(hasHead ? ['read-tree', 'HEAD'] : ['read-tree', '--empty'], { cwd: repoRoot, signal, env });
    // A repository nested in the user's tree that has no commit yet cannot
    // be added (git refuses the whole add); it is not part of this project's
    // change anyway, so it stays out of the snapshot.
    const nested = await untrackedRepositories(repoRoot, signal);
    await git(['add', '--all', '--', '.', ...nested.map((dir) => `:(exclude)${dir}`)], { cwd: repoRoot, signal, env });
    // spx's own state never belongs in a snapshot (when .gitignore does not
    // already keep it out); an exclude pathspec would fail on ignored paths.
    const state = join(prefix, relative(projectRoot, stateDir));
    await git(['rm', '-r', '--cached', '--quiet', '--ignore-unmatch', '--', state], { cwd: repoRoot, signal, env });
    const tree = (await git(['write-tree'], { cwd: repoRoot, signal, env })).trim();
    const parents = hasHead ? ['-p', 'HEAD'] : [];
    const base = (await git(['commit-tree', tree, ...parents, '-m', `spx: snapshot for ${node}`], { cwd: repoRoot, signal, env: authorEnv() })).trim();
    rmSync(env.GIT_INDEX_FILE, { force: true });

    // Outside the project: a worktree inside it would be found by the
    // project's own globs and test runners (node --test searches dot
    // directories), and a kept one would be run as a second copy.
    const path = mkdtempSync(join(tmpdir(), `spx-${node.replace(':', '-')}-`));
    // Recorded before git knows of it: a kill at any moment leaves a record to sweep, not a stray worktree.
    const records = join(stateDir, 'execute', 'worktrees');
    mkdirSync(records, { recursive: true });
    const record = join(records, basename(path));
    writeFileSync(record, path);
    await git(['worktree', 'add', '--detach', path, base], { cwd: repoRoot, signal });
    const linked: string[] = [];
    for (const link of options.link) {
      const source = join(projectRoot, link.replace(/\/$/, ''));
      const target = join(path, prefix, link.replace(/\/$/, ''));
      if (!existsSync(source) || existsSync(target)) continue;
      mkdirSync(dirname(target), { recursive: true });
      symlinkSync(source, target);
      linked.push(join(prefix, link.replace(/\/$/, '')));
    }
    return new ScratchWorktree(repoRoot, path, base, prefix, linked, record);
  }

  /** Everything the agent changed since the snapshot, as a binary-safe patch relative to the repository. */
  async diff(signal: AbortSignal): Promise<Buffer> {
    await git(['add', '--all', '--', '.'], { cwd: this.path, signal });
    if (this.linked.length > 0) {
      await git(['rm', '-r', '--cached', '--quiet', '--ignore-unmatch', '--', ...this.linked], { cwd: this.path, signal });
    }
    // Written by git to a file, not read from its stdout: a text file in
    // another encoding (latin-1) would not survive decoding as UTF-8. The
    // prefixes are spelled out because `git apply` expects a/ and b/, and a
    // user's diff.noprefix or diff.mnemonicPrefix would change them.
    const file = `${this.path}.patch`;
    try {
      await git(
        ['diff', '--cached', '--binary', '--no-color', '--no-ext-diff', '--src-prefix=a/', '--dst-prefix=b/', `--output=${file}`, this.base],
        { cwd: this.path, signal },
      );
      return readFileSync(file);
    } finally {
      rmSync(file, { force: true });
    }
  }

  async remove(): Promise<void> {
    // Removal must happen even after Ctrl-C: a fresh signal, not the build's.
    const signal = new AbortController().signal;
    await gitSucceeds(['worktree', 'remove', '--force', this.path], { cwd: this.repoRoot, signal });
    rmSync(this.path, { recursive: true, force: true });
    await gitSucceeds(['worktree', 'prune'], { cwd: this.repoRoot, signal });
    rmSync(this.record, { force: true });
  }
}

/** Untracked, not ignored directories of the user's tree that are git repositories of their own. */
async function untrackedRepositories(repoRoot: string, signal: AbortSignal): Promise<string[]> {
  const listing = await git(['ls-files', '-z', '--others', '--directory', '--exclude-standard'], { cwd: repoRoot, signal });
  return listing
    .split('\0')
    .filter((entry) => entry.endsWith('/') && existsSync(join(repoRoot, entry, '.git')))
    .map((entry) => entry.slice(0, -1));
}

/** commit-tree needs an identity; a snapshot is spx's, not the user's. */
function authorEnv(): NodeJS.ProcessEnv {
  return {
    GIT_AUTHOR_NAME: 'spx',
    GIT_AUTHOR_EMAIL: 'spx@localhost',
    GIT_COMMITTER_NAME: 'spx',
    GIT_COMMITTER_EMAIL: 'spx@localhost',
  };
}
