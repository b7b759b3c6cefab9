import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import { hashBytes, type ContentHash } from '../util/hash.js';
import { CACHE_FORMAT, type CacheEntry } from './cache.js';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/**
 * One cache entry as the remote holds it: a gzip stream of
 *
 *     spx-artifact 1\n
 *     {"fingerprint":…,"entry":{…},"blobs":[[hash,size],…]}\n
 *     the blobs' bytes, one after another, in the order listed
 *
 * Self-describing (the JSON line says what follows and how long each part
 * is) and readable with `zcat`. Each blob is stored once, however many files
 * name it. Nothing in it is trusted before it is checked: sizes must add up,
 * every blob must hash to its name, every file must name a listed blob.
 */
const MAGIC = 'spx-artifact 1\n';

/** Far more than any node writes; a bound, so that a hostile gzip stream cannot fill memory. */
const MAX_UNPACKED_BYTES = 1024 ** 3;

export interface Artifact {
  entry: CacheEntry;
  blobs: Map<ContentHash, Buffer>;
}

/** The artifact is not a well-formed entry for the key it was fetched under. */
export class ArtifactError extends Error {
  override name = 'ArtifactError';
}

interface Header {
  fingerprint: string;
  entry: CacheEntry;
  blobs: [string, number][];
}

export async function packArtifact(fingerprint: string, entry: CacheEntry, readBlob: (hash: ContentHash) => Buffer): Promise<Buffer> {
  const blobs = new Map<ContentHash, Buffer>();
  for (const output of Object.values(entry.outputs)) {
    for (const file of output.files) if (!blobs.has(file.hash)) blobs.set(file.hash, readBlob(file.hash));
  }
  const header: Header = { fingerprint, entry, blobs: [...blobs].map(([hash, data]) => [hash, data.length]) };
  return gzipAsync(Buffer.concat([Buffer.from(MAGIC + JSON.stringify(header) + '\n'), ...blobs.values()]));
}

/** Decodes and checks an artifact fetched under `fingerprint`; throws ArtifactError saying what is wrong. */
export async function unpackArtifact(fingerprint: string, packed: Buffer): Promise<Artifact> {
  let data: Buffer;
  try {
    data = await gunzipAsync(packed, { maxOutputLength: MAX_UNPACKED_BYTES });
  } catch (error) {
    throw new ArtifactError(`not a gzip stream (${(error as Error).message})`);
  }
  if (!data.subarray(0, MAGIC.length).equals(Buffer.from(MAGIC))) throw new ArtifactError('not an spx artifact');
  const headerEnd = data.indexOf(0x0a, MAGIC.length);
  if (headerEnd === -1) throw new ArtifactError('its header is cut off');
  let header: Header;
  try {
    header = JSON.parse(data.subarray(MAGIC.length, headerEnd).toString('utf8')) as Header;
  } catch {
    throw new ArtifactError('its header is not JSON');
  }
  checkHeader(header, fingerprint);

  const blobs = new Map<ContentHash, Buffer>();
  let offset = headerEnd + 1;
  for (const [hash, size] of header.blobs) {
    if (offset + size > data.length) throw new ArtifactError('it is shorter than its header says');
    const blob = data.subarray(offset, offset + size);
    offset += size;
    if (hashBytes(blob) !== hash) throw new ArtifactError(`blob ${hash.slice(0, 12)} does not match its hash`);
    blobs.set(hash as ContentHash, blob);
  }
  if (offset !== data.length) throw new ArtifactError('it is longer than its header says');
  for (const output of Object.values(header.entry.outputs)) {
    for (const file of output.files) {
      if (!blobs.has(file.hash)) throw new ArtifactError(`${file.path} names blob ${String(file.hash).slice(0, 12)}, which it does not hold`);
    }
  }
  return { entry: header.entry, blobs };
}

/** The shape, before anything is read by it: a header may come from anyone who can write to the server. */
function checkHeader(header: Header, fingerprint: string): void {
  const isHash = (value: unknown): boolean => typeof value === 'string' && /^[0-9a-f]{64}$/.test(value);
  if (typeof header !== 'object' || header === null) throw new ArtifactError('its header is not an object');
  if (header.fingerprint !== fingerprint) throw new ArtifactError('it is the entry of another fingerprint');
  const entry = header.entry as Partial<CacheEntry> | undefined;
  if (typeof entry !== 'object' || entry === null || typeof entry.outputs !== 'object' || entry.outputs === null) {
    throw new ArtifactError('its entry has no outputs');
  }
  if (entry.format !== CACHE_FORMAT) throw new ArtifactError(`its entry is of cache format ${String(entry.format)}, not ${CACHE_FORMAT}`);
  if (typeof entry.cost?.seconds !== 'number') throw new ArtifactError('its entry has no cost');
  for (const output of Object.values(entry.outputs)) {
    if (!isHash(output?.hash) || !Array.isArray(output.files)) throw new ArtifactError('an output of its entry is malformed');
    for (const file of output.files as unknown[]) {
      const f = file as Partial<{ path: unknown; hash: unknown; mode: unknown }>;
      if (typeof f?.path !== 'string' || !isHash(f.hash) || !Number.isInteger(f.mode)) throw new ArtifactError('a file of its entry is malformed');
    }
  }
  if (!Array.isArray(header.blobs)) throw new ArtifactError('its header lists no blobs');
  for (const blob of header.blobs as unknown[]) {
    if (!Array.isArray(blob) || !isHash(blob[0]) || !Number.isSafeInteger(blob[1]) || (blob[1] as number) < 0) {
      throw new ArtifactError('its blob list is malformed');
    }
  }
}
