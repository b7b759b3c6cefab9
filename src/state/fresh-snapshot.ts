import { lstatSync, readFileSync, rmSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hashEnv } from '../fingerprint/env.js';
import type { DirectoryStamp, FileStamp, Witness } from '../files/witness.js';
import { hashBytes, type ContentHash } from '../util/hash.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { seal, unsealJson } from '../util/sealed.js';
import { isRecord } from '../util/shape.js';

const FILE = 'fresh.json';
/** 3: stamps packed, with content hashes. */
const FORMAT = 3;
const HASH_BYTES = 32;

/**
 * How much older than the build a file or directory must be for the
 * snapshot to vouch for it: the stat cache's racy-file guard, with the
 * coarse file-system clock's margin (see directory-listings.ts). A path
 * changed this close to the build may change again without its stats
 * changing.
 */
const RACY_MS = 50;

/** What a build that found every node fresh showed, for a later build to show again. */
export interface FreshVerdict {
  /** build-start's nodes and dependencies, and the nodes in the order they were found fresh. */
  nodes: string[];
  dependencies: Record<string, string[]>;
  fresh: string[];
}

/** What, besides files and directories, the verdict was for. */
export interface VerdictFor {
  /** The command line's part in it: pipeline file, targets, provider override (the caller composes it). */
  command: string;
  /** The variables the nodes declare (`env`, `envByValue`), hashed as fingerprints hash them. */
  envNames: string[];
  envByValue: string[];
}

interface SnapshotFile extends FreshVerdict {
  format: number;
  spx: FileStamp;
  command: string;
  envNames: string[];
  envByValue: string[];
  env: Record<string, ContentHash>;
  /**
   * Paths relative to the root (or absolute), and their stamps packed as
   * float64s in base64: 10,000 files' stamps parse in a millisecond or two,
   * where as arrays of numbers they took tens.
   */
  files: string[];
  fileStamps: string;
  /** Each file's content hash (32 bytes; zeros where unknown), packed the same way: a touched file is read and compared. */
  fileHashes: string;
  directories: string[];
  directoryStamps: string;
  absent: string[];
}

/**
 * The fast no-op (ninja's, without its daemon-free C++): a build that found
 * every node fresh leaves `.spx/fresh.json`, naming every file and directory
 * listing its judgement rested on with their stats (Witness). The next
 * `spx build` of the same command checks those stats and nothing else: if
 * all are as they were, so are the files' contents, the globs' matches and
 * spx.lock, and the build would find every node fresh again, so it says so
 * without loading the pipeline, spx.lock or the stat cache. Any difference,
 * and the build runs as usual (and writes a new snapshot if it again finds
 * nothing to do).
 *
 * Stats are taken with lstat, so a file or directory replaced by a symlink
 * (which `stat` would follow to the same inode) is a difference. A file
 * whose stats changed but whose content did not (`touch`, a checkout that
 * rewrote it alike) is read and compared, as the full build would; a
 * directory that changed is not listed again: the full build does that.
 * The file is sealed like the other caches: a forged one is not believed.
 */
export function writeFreshSnapshot(root: string, stateDir: string, witness: Witness, verdict: FreshVerdict, verdictFor: VerdictFor, buildStartedAt: number): void {
  forgetFreshSnapshot(stateDir);
  if (witness.doubt !== undefined) return;
  const snapshot = snapshotOf(root, witness, verdict, verdictFor, buildStartedAt - RACY_MS);
  if (snapshot) save(stateDir, snapshot);
}

function save(stateDir: string, snapshot: SnapshotFile): void {
  const sealed = seal(JSON.stringify(snapshot));
  if (!sealed) return;
  try {
    writeFileAtomic(join(stateDir, FILE), sealed);
  } catch {
    // Only speed is lost.
  }
}

/** A build is under way or something changed: the next build must judge for itself. */
export function forgetFreshSnapshot(stateDir: string): void {
  rmSync(join(stateDir, FILE), { force: true });
}

/**
 * The verdict of the last build of this command, if everything it rested on
 * is as it was; otherwise undefined. Files found touched but unchanged get
 * their new stats recorded, so that the next build need not read them again.
 */
export function freshVerdict(root: string, stateDir: string, command: string, env: NodeJS.ProcessEnv): FreshVerdict | undefined {
  const trustedBefore = Date.now() - RACY_MS;
  let text: string;
  try {
    text = readFileSync(join(stateDir, FILE), 'utf8');
  } catch {
    return undefined;
  }
  const opened = unsealJson(text);
  if ('problem' in opened || !isRecord(opened.value)) return undefined;
  const snapshot = opened.value as unknown as SnapshotFile;
  if (snapshot.format !== FORMAT || snapshot.command !== command) return undefined;
  if (!sameFile(fileURLToPath(import.meta.url), snapshot.spx)) return undefined;
  const envNow = hashEnv(snapshot.envNames, snapshot.envByValue, env);
  if (snapshot.envNames.some((name) => envNow[name] !== snapshot.env[name])) return undefined;
  const files = checkFiles(root, snapshot, trustedBefore);
  if (files === 'changed' || !sameDirectories(root, snapshot)) return undefined;
  for (const path of snapshot.absent) if (lstatSync(absolute(root, path), { throwIfNoEntry: false })) return undefined;
  if (files === 'restamped') save(stateDir, snapshot);
  return { nodes: snapshot.nodes, dependencies: snapshot.dependencies, fresh: snapshot.fresh };
}

/**
 * The snapshot, if every path still looks as the build saw it (nothing
 * changed during the build, no symlink that stat followed), none changed
 * so recently that it could change again unseen, and the directories on
 * the way to each file are there to be checked too (a directory swapped
 * for a symlink leading out keeps its files' stats).
 */
function snapshotOf(root: string, witness: Witness, verdict: FreshVerdict, verdictFor: VerdictFor, trustedBefore: number): SnapshotFile | undefined {
  const spx = stampOfFile(fileURLToPath(import.meta.url));
  if (spx === undefined) return undefined;
  const recent = (mtimeMs: number, ctimeMs: number): boolean => mtimeMs >= trustedBefore || ctimeMs >= trustedBefore;
  for (const [path, stamp] of witness.files) {
    if (recent(stamp[1], stamp[2]) || !sameFile(absolute(root, path), stamp)) return undefined;
  }
  const directories = new Map<string, DirectoryStamp>(witness.directories);
  const onTheWay = new Set<string>();
  for (const path of witness.files.keys()) {
    if (path.startsWith('/')) continue;
    for (let slash = path.lastIndexOf('/'); slash > 0; slash = path.lastIndexOf('/', slash - 1)) {
      const directory = path.slice(0, slash);
      if (onTheWay.has(directory)) break;
      onTheWay.add(directory);
      if (directories.has(directory)) continue;
      const stamp = stampOfDirectory(absolute(root, directory));
      if (stamp === undefined) return undefined;
      directories.set(directory, stamp);
    }
  }
  for (const [path, stamp] of directories) {
    if (recent(stamp[0], stamp[1]) || !sameDirectory(absolute(root, path), stamp)) return undefined;
  }
  const env = hashEnv(verdictFor.envNames, verdictFor.envByValue, process.env);
  const [files, fileStamps] = packed(witness.files);
  const [listed, directoryStamps] = packed(directories);
  const hashes = Buffer.alloc(files.length * HASH_BYTES);
  files.forEach((path, index) => {
    const hash = witness.hashes.get(path);
    if (hash !== undefined) hashes.write(hash, index * HASH_BYTES, 'hex');
  });
  const fileHashes = hashes.toString('base64');
  return { format: FORMAT, spx, ...verdictFor, env, ...verdict, files, fileStamps, fileHashes, directories: listed, directoryStamps, absent: [...witness.absent] };
}

/** The paths, and their stamps packed. */
function packed(stamps: ReadonlyMap<string, readonly number[]>): [string[], string] {
  const paths = [...stamps.keys()];
  const width = paths.length === 0 ? 0 : stamps.get(paths[0]!)!.length;
  const numbers = new Float64Array(paths.length * width);
  paths.forEach((path, index) => numbers.set(stamps.get(path)!, index * width));
  return [paths, Buffer.from(numbers.buffer).toString('base64')];
}

/**
 * 'same' when every file has its stamp; 'restamped' when some were only
 * touched (same content, read to tell) and their new stamps, old enough to
 * trust, are now in `snapshot`; 'changed' otherwise.
 */
function checkFiles(root: string, snapshot: SnapshotFile, trustedBefore: number): 'same' | 'restamped' | 'changed' {
  const stamps = unpacked(snapshot.fileStamps, snapshot.files.length * 4);
  if (stamps === undefined) return 'changed';
  let hashes: Buffer | undefined;
  let restamped = 0;
  let recent = false;
  for (let index = 0, at = 0; index < snapshot.files.length; index++, at += 4) {
    const path = absolute(root, snapshot.files[index]!);
    const stats = lstatSync(path, { throwIfNoEntry: false });
    if (!stats?.isFile()) return 'changed';
    if (fileMatches(stats, stamps, at)) continue;
    hashes ??= Buffer.from(snapshot.fileHashes, 'base64');
    const recorded = hashes.subarray(index * HASH_BYTES, (index + 1) * HASH_BYTES);
    if (recorded.length !== HASH_BYTES || recorded.every((byte) => byte === 0)) return 'changed';
    if (hashBytes(readFileSync(path)) !== recorded.toString('hex')) return 'changed';
    stamps.set([stats.size, stats.mtimeMs, stats.ctimeMs, stats.ino], at);
    restamped++;
    // Changed so lately that it could change again with these stats: read it again next time.
    recent ||= stats.mtimeMs >= trustedBefore || stats.ctimeMs >= trustedBefore;
  }
  if (restamped === 0 || recent) return 'same';
  snapshot.fileStamps = Buffer.from(stamps.buffer).toString('base64');
  return 'restamped';
}

function sameDirectories(root: string, snapshot: SnapshotFile): boolean {
  const stamps = unpacked(snapshot.directoryStamps, snapshot.directories.length * 3);
  if (stamps === undefined) return false;
  for (let index = 0, at = 0; index < snapshot.directories.length; index++, at += 3) {
    if (!directoryMatches(lstatSync(absolute(root, snapshot.directories[index]!), { throwIfNoEntry: false }), stamps, at)) return false;
  }
  return true;
}

/** `count` float64s from base64, or undefined when there are not exactly that many. */
function unpacked(base64: string, count: number): Float64Array | undefined {
  const bytes = Buffer.from(base64, 'base64');
  if (bytes.length !== count * 8) return undefined;
  const numbers = new Float64Array(count);
  bytes.copy(Buffer.from(numbers.buffer));
  return numbers;
}

function absolute(root: string, path: string): string {
  if (path.startsWith('/')) return path;
  return path === '' ? root : `${root}/${path}`;
}

function stampOfFile(path: string): FileStamp | undefined {
  const stats = lstatSync(path, { throwIfNoEntry: false });
  return stats?.isFile() ? [stats.size, stats.mtimeMs, stats.ctimeMs, stats.ino] : undefined;
}

function stampOfDirectory(path: string): DirectoryStamp | undefined {
  const stats = lstatSync(path, { throwIfNoEntry: false });
  return stats?.isDirectory() ? [stats.mtimeMs, stats.ctimeMs, stats.ino] : undefined;
}

function sameFile(path: string, stamp: readonly number[]): boolean {
  return fileMatches(lstatSync(path, { throwIfNoEntry: false }), stamp);
}

function sameDirectory(path: string, stamp: readonly number[]): boolean {
  return directoryMatches(lstatSync(path, { throwIfNoEntry: false }), stamp);
}

/** Whether lstat found a regular file with the stamp at `at` in `stamps`: [size, mtimeMs, ctimeMs, inode]. */
function fileMatches(stats: Stats | undefined, stamps: ArrayLike<number>, at = 0): boolean {
  return stats !== undefined && stats.isFile() && stats.size === stamps[at] && stats.mtimeMs === stamps[at + 1] && stats.ctimeMs === stamps[at + 2] && stats.ino === stamps[at + 3];
}

/** Whether lstat found a directory with the stamp at `at` in `stamps`: [mtimeMs, ctimeMs, inode]. */
function directoryMatches(stats: Stats | undefined, stamps: ArrayLike<number>, at = 0): boolean {
  return stats !== undefined && stats.isDirectory() && stats.mtimeMs === stamps[at] && stats.ctimeMs === stamps[at + 1] && stats.ino === stamps[at + 2];
}
