import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, realpathSync, renameSync, rmSync, utimesSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { writeFileAtomic } from '../util/atomic-write.js';
import { hashBytes, type ContentHash, type Fingerprint } from '../util/hash.js';
import { isDirectoryOutput } from '../files/output-hash.js';
import { readRegularFile } from '../files/regular-file.js';
import { unsafeWriteTarget } from '../files/write-target.js';
import { CACHE_FORMAT, type Cache, type CacheEntry, type RestoreResult } from './cache.js';
import { checkEntry } from './verify-entry.js';

/**
 * The on-disk cache: `blobs/ab/<sha256>` holds file contents once however
 * many entries name them; `entries/ab/<fingerprint>.json` lists a node's
 * outputs. Every write is a temp file renamed into place, so builds of
 * several projects or CI jobs may share one directory: a reader sees a
 * whole file or none, and two writers of one blob write the same bytes.
 */
export class LocalCache implements Cache {
  constructor(readonly directory: string) {}

  get location(): string {
    return this.directory;
  }

  entryPath(fingerprint: string): string {
    return join(this.directory, 'entries', fingerprint.slice(0, 2), `${fingerprint}.json`);
  }

  blobPath(hash: string): string {
    return join(this.directory, 'blobs', hash.slice(0, 2), hash);
  }

  lookup(fingerprint: Fingerprint): CacheEntry | undefined {
    const path = this.entryPath(fingerprint);
    const read = readRegularFile(path);
    if (typeof read === 'string') return undefined;
    let entry: CacheEntry;
    try {
      entry = JSON.parse(read.toString('utf8')) as CacheEntry;
    } catch {
      return undefined;
    }
    if (typeof entry !== 'object' || entry === null || entry.format !== CACHE_FORMAT) return undefined;
    // The entry's mtime is its last use: `spx cache prune --max-age` keeps
    // what builds still hit.
    const now = new Date();
    try {
      utimesSync(path, now, now);
    } catch {
      // A read-only cache still serves hits.
    }
    return entry;
  }

  restore(fingerprint: Fingerprint, entry: CacheEntry, root: string, declared: readonly string[]): RestoreResult {
    // The directory may be shared with other jobs or restored from CI: an
    // entry, damaged or forged, is checked whole before anything is written.
    const check = checkEntry(entry, declared);
    if (!check.ok) {
      this.remove(fingerprint);
      return { ok: false, problem: `${check.problem} (removed)` };
    }
    const verified = check.entry;
    // The project's own symlinks are data too: a committed `docs -> ~` must
    // not turn a restore into a write outside the project.
    const realRoot = realpathSync(root);
    for (const output of declared) {
      const problem = isDirectoryOutput(output)
        ? unsafeWriteTarget(root, realRoot, output.slice(0, -1), 'directory')
        : unsafeWriteTarget(root, realRoot, output, 'file');
      if (problem) return { ok: false, problem };
    }
    const contents = new Map<string, Buffer>();
    for (const output of Object.values(verified.outputs)) {
      for (const file of output.files) {
        const read = readRegularFile(this.blobPath(file.hash));
        if (typeof read === 'string') {
          if (read !== 'missing') rmSync(this.blobPath(file.hash), { force: true });
          this.remove(fingerprint);
          return { ok: false, problem: `blob ${file.hash.slice(0, 12)} of ${file.path} ${read === 'missing' ? 'is missing' : `is ${read} (removed)`}` };
        }
        if (hashBytes(read) !== file.hash) {
          rmSync(this.blobPath(file.hash), { force: true });
          this.remove(fingerprint);
          return { ok: false, problem: `blob ${file.hash.slice(0, 12)} of ${file.path} is corrupt (removed)` };
        }
        contents.set(file.path, read);
      }
    }
    try {
      for (const [output, { files }] of Object.entries(verified.outputs)) {
        // A directory output is restored exactly: files the entry does not
        // list would change its hash, so they go.
        if (isDirectoryOutput(output)) {
          rmSync(join(root, output.slice(0, -1)), { recursive: true, force: true });
          // An empty directory is a valid output with no files: without this
          // it would stay missing, and the node be "restored" on every build.
          mkdirSync(join(root, output), { recursive: true });
        }
        for (const file of files) {
          // Checked again as written: nothing below a fresh directory should
          // be a link, unless something else is writing there right now.
          const problem = unsafeWriteTarget(root, realRoot, file.path, 'file');
          if (problem) return { ok: false, problem };
          const target = join(root, file.path);
          // A rename replaces a symlink at the target; it never writes through it.
          writeFileAtomic(target, contents.get(file.path)!, { mode: file.mode });
          chmodSync(target, file.mode);
        }
      }
    } catch (error) {
      return { ok: false, problem: `could not write the outputs: ${(error as Error).message}` };
    }
    return { ok: true, entry: verified };
  }

  store(fingerprint: Fingerprint, entry: CacheEntry, root: string): void {
    for (const output of Object.values(entry.outputs)) {
      for (const file of output.files) this.storeBlob(join(root, file.path), file.hash);
    }
    writeFileAtomic(this.entryPath(fingerprint), JSON.stringify(entry));
  }

  /**
   * Stores an entry that came with its blobs' bytes (from the remote cache),
   * blobs first, so that a reader never sees an entry whose blobs are not
   * there yet. The caller has checked each blob against its hash.
   */
  storeWithBlobs(fingerprint: Fingerprint, entry: CacheEntry, blobs: ReadonlyMap<ContentHash, Buffer>): void {
    for (const [hash, data] of blobs) {
      if (!existsSync(this.blobPath(hash))) writeFileAtomic(this.blobPath(hash), data);
    }
    writeFileAtomic(this.entryPath(fingerprint), JSON.stringify(entry));
  }

  /**
   * Keeps a file's bytes under their hash, outside any entry: an approved
   * output that a reviewer edited, for `spx diff` to compare with later.
   */
  keepBlob(root: string, path: string, hash: ContentHash): void {
    this.storeBlob(join(root, path), hash);
  }

  /** Removes an entry (not its blobs, which other entries may share). */
  remove(fingerprint: string): void {
    rmSync(this.entryPath(fingerprint), { force: true });
  }

  private storeBlob(source: string, hash: ContentHash): void {
    const target = this.blobPath(hash);
    if (existsSync(target)) return;
    mkdirSync(dirname(target), { recursive: true });
    const temp = `${target}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      copyFileSync(source, temp);
      // The file may have changed since it was hashed; a blob must never
      // hold other bytes than its name says.
      if (hashBytes(readFileSync(temp)) !== hash) throw new Error(`${source} changed while it was being stored`);
      renameSync(temp, target);
    } catch (error) {
      rmSync(temp, { force: true });
      throw error;
    }
  }
}
