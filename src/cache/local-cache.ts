import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, utimesSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { writeFileAtomic } from '../util/atomic-write.js';
import { hashBytes, type ContentHash, type Fingerprint } from '../util/hash.js';
import { CACHE_FORMAT, type Cache, type CacheEntry, type RestoreResult } from './cache.js';

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
    let entry: CacheEntry;
    try {
      entry = JSON.parse(readFileSync(path, 'utf8')) as CacheEntry;
    } catch {
      return undefined;
    }
    if (entry.format !== CACHE_FORMAT) return undefined;
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

  restore(fingerprint: Fingerprint, entry: CacheEntry, root: string): RestoreResult {
    const contents = new Map<string, Buffer>();
    for (const [declared, output] of Object.entries(entry.outputs)) {
      for (const file of output.files) {
        // The directory may be shared with other jobs or restored from CI:
        // an entry, damaged or forged, must not make spx write outside the
        // project or beside the output it names.
        if (!isInside(file.path, declared)) {
          this.remove(fingerprint);
          return { ok: false, problem: `entry names ${JSON.stringify(file.path)}, which is not part of its output ${declared} (removed)` };
        }
        let data: Buffer;
        try {
          data = readFileSync(this.blobPath(file.hash));
        } catch {
          this.remove(fingerprint);
          return { ok: false, problem: `blob ${file.hash.slice(0, 12)} of ${file.path} is missing` };
        }
        if (hashBytes(data) !== file.hash) {
          rmSync(this.blobPath(file.hash), { force: true });
          this.remove(fingerprint);
          return { ok: false, problem: `blob ${file.hash.slice(0, 12)} of ${file.path} is corrupt (removed)` };
        }
        contents.set(file.path, data);
      }
    }
    for (const [declared, output] of Object.entries(entry.outputs)) {
      // A directory output is restored exactly: files the entry does not
      // list would change its hash, so they go.
      if (declared.endsWith('/')) {
        rmSync(join(root, declared), { recursive: true, force: true });
        // An empty directory is a valid output with no files: without this
        // it would stay missing, and the node be "restored" on every build.
        mkdirSync(join(root, declared), { recursive: true });
      }
      for (const file of output.files) {
        const target = join(root, file.path);
        writeFileAtomic(target, contents.get(file.path)!, { mode: file.mode });
        chmodSync(target, file.mode);
      }
    }
    return { ok: true };
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

/** A relative, normalized path that is the file output itself or lies below the directory output. */
function isInside(path: string, declared: string): boolean {
  const safe = (p: string): boolean => p !== '' && !p.startsWith('/') && p.split('/').every((part) => part !== '' && part !== '.' && part !== '..');
  if (!declared.endsWith('/')) return path === declared && safe(path);
  return path.startsWith(declared) && safe(path) && safe(declared.slice(0, -1));
}
