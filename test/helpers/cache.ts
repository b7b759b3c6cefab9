import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TestProject } from './project.js';

const dirs: string[] = [];

/** A throwaway directory (a cache shared by several projects, say), removed by `cleanupCacheDirs`. */
export function tempDir(prefix = 'spx-cache-'): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

/** For `afterEach`, beside `cleanupProjects`: removes clones and temp dirs made here. */
export function cleanupCacheDirs(): void {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

function git(cwd: string, args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=spx test', '-c', 'user.email=test@example.com', '-c', 'init.defaultBranch=main', ...args], {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Makes the project a git repository with everything not ignored committed. */
export function commitAll(project: TestProject, message = 'snapshot'): void {
  if (!project.exists('.git')) git(project.dir, ['init', '-q']);
  git(project.dir, ['add', '-A']);
  git(project.dir, ['commit', '-q', '--allow-empty', '-m', message]);
}

/** A fresh `git clone` of the project in another temp directory: no .spx/, no ignored files. */
export function cloneProject(project: TestProject): TestProject {
  const parent = tempDir('spx-clone-');
  const target = path.join(parent, 'clone');
  git(parent, ['clone', '-q', project.dir, target]);
  return new TestProject(target);
}

export function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Where the cache keeps the blob of this content. */
export function blobFile(cacheDir: string, content: string | Buffer): string {
  const hash = sha256(content);
  return path.join(cacheDir, 'blobs', hash.slice(0, 2), hash);
}

/** Where the cache keeps the entry of this fingerprint. */
export function entryFile(cacheDir: string, fingerprint: string): string {
  return path.join(cacheDir, 'entries', fingerprint.slice(0, 2), `${fingerprint}.json`);
}

/** Every file below a directory, relative and sorted ([] if it does not exist). */
export function filesBelow(dir: string): string[] {
  try {
    return readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)))
      .sort();
  } catch {
    return [];
  }
}

/** Fingerprints of the entries in a cache directory. */
export function entriesIn(cacheDir: string): string[] {
  return filesBelow(path.join(cacheDir, 'entries'))
    .filter((file) => file.endsWith('.json'))
    .map((file) => path.basename(file, '.json'));
}

export interface FileSnapshot {
  content: string;
  /** Permission bits. */
  mode: number;
}

/** Content (base64, so that bytes compare exactly) and mode of each named file or of every file below a named directory. */
export function snapshot(project: TestProject, outputs: string[]): Record<string, FileSnapshot> {
  const result: Record<string, FileSnapshot> = {};
  for (const output of outputs) {
    const files = output.endsWith('/') ? filesBelow(project.path(output)).map((file) => path.join(output, file)) : [output];
    for (const file of files) {
      result[file] = {
        content: readFileSync(project.path(file)).toString('base64'),
        mode: statSync(project.path(file)).mode & 0o777,
      };
    }
  }
  return result;
}
