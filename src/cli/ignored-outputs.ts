import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { NodeConfig } from '../config/types.js';
import { LOCK_FILE } from '../state/lockfile.js';
import { runGit } from '../util/git.js';

/**
 * The kinds whose rerun costs a model's or an agent's call: a fresh clone
 * must find their outputs committed. A context bundle or a run node's
 * build directory is remade locally, for free, and is rightly ignored.
 */
const CALLING_KINDS: ReadonlySet<string> = new Set(['spec', 'plan', 'execute']);

export interface IgnoredOutput {
  node: string;
  output: string;
}

/** The warning for one ignored output, worded once for validate and build. */
export function ignoredOutputWarning({ output, node }: IgnoredOutput): string {
  return `its output ${output} lies in a path git ignores while ${LOCK_FILE} is committed: a fresh clone lacks it and runs ${node} again (commit it, or move it out of the ignored path)`;
}

/**
 * The outputs of model and agent nodes that git ignores, when spx.lock is
 * tracked; none outside a git work tree or while spx.lock is not committed
 * (nothing is shared yet). A tracked file is not ignored, whatever the
 * ignore rules say: it is committed.
 */
export async function ignoredOutputs(root: string, nodes: Readonly<Record<string, NodeConfig>>, signal: AbortSignal): Promise<IgnoredOutput[]> {
  const candidates = Object.entries(nodes).flatMap(([node, config]) => (CALLING_KINDS.has(config.kind) ? config.outputs.map((output) => ({ node, output })) : []));
  if (candidates.length === 0) return [];
  const paths = [...new Set(candidates.map(({ output }) => output.replace(/\/$/, '')))];
  const [tracked, ignored] = await Promise.all([
    runGit(['ls-files', '-z', '--', LOCK_FILE], { cwd: root, signal }),
    runGit(['check-ignore', '-z', '--stdin'], { cwd: root, signal, input: paths.join('\0') + '\0' }),
  ]);
  // check-ignore exits 1 when nothing is ignored, 128 outside a work tree.
  if (tracked.exitCode !== 0 || tracked.stdout === '' || ignored.exitCode !== 0) return [];
  const ignoredPaths = new Set(ignored.stdout.split('\0'));
  return candidates.filter(({ output }) => ignoredPaths.has(output.replace(/\/$/, '')));
}

/** Remembered in the state directory: which outputs were already warned about, and in which repository state. */
const MEMORY_FILE = 'ignored-outputs.json';

interface Memory {
  key: string;
  warned: string[];
}

/**
 * For a build: the ignored outputs not warned about before. git runs only
 * when the pipeline's outputs, the git index (a commit, an add) or the
 * root's .gitignore changed since the last answer, so a no-op build
 * starts no process for it.
 */
export async function newlyIgnoredOutputs(root: string, stateDir: string, nodes: Readonly<Record<string, NodeConfig>>, signal: AbortSignal): Promise<IgnoredOutput[]> {
  const key = memoryKey(root, nodes);
  if (key === undefined) return [];
  const memory = readMemory(stateDir);
  if (memory?.key === key) return [];
  const found = await ignoredOutputs(root, nodes, signal);
  const warned = new Set(memory?.warned ?? []);
  const name = ({ node, output }: IgnoredOutput): string => `${node}\0${output}`;
  try {
    writeFileSync(join(stateDir, MEMORY_FILE), JSON.stringify({ key, warned: found.map(name) } satisfies Memory));
  } catch {
    // Only a warning's repetition depends on it.
  }
  return found.filter((item) => !warned.has(name(item)));
}

/** What the answer depends on; undefined outside a git work tree. */
function memoryKey(root: string, nodes: Readonly<Record<string, NodeConfig>>): string | undefined {
  const index = gitIndex(root);
  if (index === undefined) return undefined;
  const stamp = (file: string): string => {
    try {
      const stats = statSync(file);
      return `${stats.mtimeMs}:${stats.size}:${stats.ino}`;
    } catch {
      return '-';
    }
  };
  const outputs = Object.entries(nodes).map(([node, config]) => [node, config.kind, config.outputs]);
  return JSON.stringify([stamp(index), stamp(join(root, '.gitignore')), outputs]);
}

/** The index of the git work tree holding `root`: `.git/index`, or a linked worktree's (`.git` is then a file naming its directory). */
function gitIndex(root: string): string | undefined {
  for (let directory = resolve(root); ; directory = dirname(directory)) {
    const dotGit = join(directory, '.git');
    try {
      if (statSync(dotGit).isDirectory()) return join(dotGit, 'index');
      const gitdir = /^gitdir: (.+)$/m.exec(readFileSync(dotGit, 'utf8'))?.[1];
      if (gitdir !== undefined) return join(resolve(directory, gitdir.trim()), 'index');
    } catch {
      // No .git here: look in the parent.
    }
    if (dirname(directory) === directory) return undefined;
  }
}

/** Not sealed, unlike spx's caches: a forged file can at most silence a warning. */
function readMemory(stateDir: string): Memory | undefined {
  try {
    const read = JSON.parse(readFileSync(join(stateDir, MEMORY_FILE), 'utf8')) as unknown;
    if (typeof read !== 'object' || read === null) return undefined;
    const { key, warned } = read as Record<string, unknown>;
    if (typeof key !== 'string' || !Array.isArray(warned) || !warned.every((item) => typeof item === 'string')) return undefined;
    return { key, warned };
  } catch {
    return undefined;
  }
}
