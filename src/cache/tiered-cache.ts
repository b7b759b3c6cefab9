import { hashBytes, type ContentHash, type Fingerprint } from '../util/hash.js';
import { Limiter } from '../util/limiter.js';
import { readRegularFile } from '../files/regular-file.js';
import { ArtifactError, packArtifact, unpackArtifact, type Artifact } from './artifact.js';
import type { Cache, CacheEntry, FetchResult, RestoreResult } from './cache.js';
import { remoteOffWarning } from './remote-config.js';
import type { LocalCache } from './local-cache.js';
import { RemoteCacheAborted, RemoteCacheError, type RemoteCache } from './remote-cache.js';
import { artifactTag, verifyArtifactTag } from './signing.js';
import { checkEntry } from './verify-entry.js';

/** What the remote did for one build, for `spx cache stats`. */
export interface RemoteStats {
  location: string;
  readOnly: boolean;
  /** Stale nodes whose entry came from the remote. */
  hits: number;
  /** Stale nodes the remote did not have either. */
  misses: number;
  uploads: number;
  /** Failed requests, and artifacts refused (bad signature, corrupt). */
  errors: number;
  /** Why the remote was given up, when it was. */
  unavailable?: string;
}

export interface TieredCacheOptions {
  readOnly: boolean;
  /** When set, uploads are signed and unsigned or wrongly signed downloads refused. */
  signatureKey: string | undefined;
  /** Says, once, that the remote was given up and why. */
  warn: (message: string) => void;
}

/** Downloads in flight at once: enough to hide round trips, few enough not to swamp a server. */
const PARALLEL_DOWNLOADS = 8;

/**
 * The local cache in front of a remote one. A lookup asks the local
 * directory; on a miss the remote, whose artifact is checked (signature,
 * then every blob against its hash), written into the local cache and
 * restored from there, so that the remote never writes into the project
 * directly. What a node stores goes to the local cache at once and to the
 * remote in the background; the build waits for those uploads at its end.
 *
 * The remote never fails a build: at its first failure (unreachable, too
 * slow, refusing the token, failing, answering nonsense) it is given up for
 * the rest of the build, with one warning, and the build goes on locally.
 */
export class TieredCache implements Cache {
  private stats: RemoteStats;
  private readonly pending = new Set<Promise<void>>();
  private readonly prefetched = new Map<string, Promise<FetchResult>>();
  private readonly downloads = new Limiter(PARALLEL_DOWNLOADS);

  constructor(
    readonly local: LocalCache,
    readonly remote: RemoteCache,
    private readonly options: TieredCacheOptions,
  ) {
    this.stats = this.freshStats();
  }

  get location(): string {
    return `${this.local.location}, then ${this.remote.location}`;
  }

  lookup(fingerprint: Fingerprint): CacheEntry | undefined {
    return this.local.lookup(fingerprint);
  }

  restore(fingerprint: Fingerprint, entry: CacheEntry, root: string, declared: readonly string[]): RestoreResult {
    return this.local.restore(fingerprint, entry, root, declared);
  }

  store(fingerprint: Fingerprint, entry: CacheEntry, root: string): void {
    this.local.store(fingerprint, entry, root);
    if (this.options.readOnly || this.stats.unavailable !== undefined) return;
    const upload = this.upload(fingerprint, entry).then(
      () => void this.stats.uploads++,
      (error: unknown) => this.failed(error),
    );
    this.pending.add(upload);
    void upload.finally(() => this.pending.delete(upload));
  }

  /**
   * Starts downloading a stale node's entry now, without waiting for the
   * node's turn: a node runs at most `-j` at a time, but downloads are
   * round trips that can overlap far more, so restoring a hundred nodes from
   * a remote costs a few round trips' time, not a hundred.
   */
  prefetch(fingerprint: Fingerprint, outputs: readonly string[]): void {
    if (this.stats.unavailable !== undefined || this.prefetched.has(fingerprint) || this.local.lookup(fingerprint)) return;
    const download = this.downloads.run(() => this.fetchNow(fingerprint, outputs));
    this.prefetched.set(fingerprint, download);
  }

  async fetch(fingerprint: Fingerprint, outputs: readonly string[]): Promise<FetchResult> {
    const prefetched = this.prefetched.get(fingerprint);
    if (prefetched) {
      this.prefetched.delete(fingerprint);
      return prefetched;
    }
    return this.fetchNow(fingerprint, outputs);
  }

  private async fetchNow(fingerprint: Fingerprint, outputs: readonly string[]): Promise<FetchResult> {
    if (this.stats.unavailable !== undefined) return { entry: undefined };
    let artifact: Artifact | undefined;
    try {
      artifact = await this.download(fingerprint, outputs);
    } catch (error) {
      if (error instanceof ArtifactError) {
        this.stats.errors++;
        return { entry: undefined, problem: `remote cache entry refused: ${error.message}` };
      }
      this.failed(error);
      return { entry: undefined };
    }
    if (artifact === undefined) {
      this.stats.misses++;
      return { entry: undefined };
    }
    try {
      this.local.storeWithBlobs(fingerprint, artifact.entry, artifact.blobs);
    } catch (error) {
      return { entry: undefined, problem: `could not write the remote cache entry into the local cache: ${(error as Error).message}` };
    }
    this.stats.hits++;
    return { entry: artifact.entry };
  }

  async flush(): Promise<void> {
    // Downloads for nodes that never asked (the build stopped first) end too,
    // rather than keep the process alive until their timeout.
    await Promise.all([...this.prefetched.values()]);
    this.prefetched.clear();
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  /** This build's figures so far; the next build counts from zero. */
  takeStats(): RemoteStats {
    const stats = this.stats;
    this.stats = { ...this.freshStats(), ...(stats.unavailable === undefined ? {} : { unavailable: stats.unavailable }) };
    return stats;
  }

  /**
   * `spx cache push`: uploads a local entry unless the remote has it. One a
   * build would refuse (damaged, forged) is removed, not spread.
   * Throws RemoteCacheError: an explicit transfer that fails should say so.
   */
  async push(fingerprint: Fingerprint, outputs: readonly string[]): Promise<'uploaded' | 'present' | 'not-local'> {
    const entry = this.local.lookup(fingerprint);
    if (!entry) return 'not-local';
    const check = checkEntry(entry, outputs);
    if (!check.ok) {
      this.local.remove(fingerprint);
      return 'not-local';
    }
    if (await this.remote.exists(fingerprint)) return 'present';
    await this.upload(fingerprint, check.entry);
    return 'uploaded';
  }

  /**
   * `spx cache pull`: brings a remote entry into the local cache, checked as
   * a build would check it, without touching the project. Throws
   * RemoteCacheError, or ArtifactError for an artifact refused.
   */
  async pull(fingerprint: Fingerprint, outputs: readonly string[]): Promise<'pulled' | 'local' | 'absent'> {
    if (this.local.lookup(fingerprint)) return 'local';
    const artifact = await this.download(fingerprint, outputs);
    if (!artifact) return 'absent';
    this.local.storeWithBlobs(fingerprint, artifact.entry, artifact.blobs);
    return 'pulled';
  }

  private async download(fingerprint: Fingerprint, outputs: readonly string[]): Promise<Artifact | undefined> {
    const fetched = await this.remote.get(fingerprint);
    if (!fetched) return undefined;
    const key = this.options.signatureKey;
    // The signature first: nothing of an artifact is read before it is known
    // to come from someone who holds the key.
    if (key !== undefined) {
      if (fetched.tag === undefined) {
        throw new ArtifactError('it is not signed (no x-artifact-tag; turborepo-remote-cache keeps tags only with TURBO_REMOTE_CACHE_SIGNATURE_KEY set)');
      }
      if (!verifyArtifactTag(key, fingerprint, fetched.bytes, fetched.tag)) {
        throw new ArtifactError('its signature does not match: it was altered, or signed with another key');
      }
    }
    const artifact = await unpackArtifact(fingerprint, fetched.bytes);
    // Checked as a local entry is, before it goes into the local cache: a
    // malformed one must not stay there to fail every later build.
    const check = checkEntry(artifact.entry, outputs);
    if (!check.ok) throw new ArtifactError(check.problem);
    return { ...artifact, entry: check.entry };
  }

  private async upload(fingerprint: Fingerprint, entry: CacheEntry): Promise<void> {
    const bytes = await packArtifact(fingerprint, entry, (hash) => this.readBlob(hash));
    const key = this.options.signatureKey;
    await this.remote.put(fingerprint, bytes, {
      tag: key === undefined ? undefined : artifactTag(key, fingerprint, bytes),
      durationMs: entry.cost.seconds * 1000,
    });
  }

  /** A local blob damaged since it was stored must not spread to every machine. */
  private readBlob(hash: ContentHash): Buffer {
    const data = readRegularFile(this.local.blobPath(hash));
    if (typeof data === 'string') throw new Error(`blob ${hash.slice(0, 12)} in the local cache is ${data}`);
    if (hashBytes(data) !== hash) throw new Error(`blob ${hash.slice(0, 12)} in the local cache is corrupt (spx cache verify removes it)`);
    return data;
  }

  private failed(error: unknown): void {
    // Ctrl-C: the build is stopping anyway, and says so.
    if (error instanceof RemoteCacheAborted) return;
    this.stats.errors++;
    if (!(error instanceof RemoteCacheError)) {
      this.options.warn(`could not upload to the remote cache: ${(error as Error).message}`);
      return;
    }
    if (this.stats.unavailable !== undefined) return;
    this.stats.unavailable = error.message;
    this.options.warn(remoteOffWarning(error.message));
  }

  private freshStats(): RemoteStats {
    return { location: this.remote.location, readOnly: this.options.readOnly, hits: 0, misses: 0, uploads: 0, errors: 0 };
  }
}
