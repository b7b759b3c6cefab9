import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../util/atomic-write.js';
import { hashBytes } from '../util/hash.js';
import { seal, unsealJson } from '../util/sealed.js';
import { RankTable, SLOT_COUNT, type Ranks } from './rank-table.js';

/** Bumped whenever the file's layout or RankTable's lookups change: an older file is then rebuilt. */
const FORMAT = 1;

/** What the sealed `.json` says of the `.bin` beside it. */
interface Header {
  format: number;
  encoding: string;
  /** The package and version the ranks were taken from: another version is another vocabulary, perhaps. */
  source: string;
  tokens: number;
  bytes: number;
  /** Of the `.bin`: the seal covers this small file, and the hash the large one. */
  sha256: string;
}

/**
 * The rank table of `encoding`, from `.spx/token-ranks-<encoding>.bin`
 * (the hash table, each token's length, then their bytes) when the sealed
 * `.json` beside it (see util/sealed.ts) says it was built from the
 * installed gpt-tokenizer and hashes as it did: a damaged, stale or forged
 * table is rebuilt from gpt-tokenizer's own tables (~0.5 s, about what
 * loading them to count would cost) and written anew. No files without
 * `stateDir`. A string says why gpt-tokenizer's vocabulary cannot be such
 * a table.
 */
export async function loadRankTable(encoding: 'o200k_base', stateDir: string | undefined): Promise<RankTable | string> {
  const files = stateDir === undefined ? undefined : { bin: join(stateDir, `token-ranks-${encoding}.bin`), json: join(stateDir, `token-ranks-${encoding}.json`) };
  const expected = { format: FORMAT, encoding, source: `gpt-tokenizer ${gptTokenizerVersion()}` };
  const kept = files === undefined ? undefined : readTable(files, expected);
  if (kept) return kept;
  const { default: ranks } = (await import('gpt-tokenizer/bpeRanks/o200k_base')) as { default: Ranks };
  const built = RankTable.fromRanks(ranks);
  if (files !== undefined && typeof built !== 'string') writeTable(files, expected, built);
  return built;
}

type Files = { bin: string; json: string };

/** The kept table, or undefined for one that is missing, unsealed, from another version or not as sealed. */
function readTable(files: Files, expected: Pick<Header, 'format' | 'encoding' | 'source'>): RankTable | undefined {
  if (!existsSync(files.json)) return undefined;
  try {
    const opened = unsealJson(readFileSync(files.json, 'utf8'));
    if ('problem' in opened) return undefined;
    const header = opened.value as Header;
    if (header.format !== expected.format || header.encoding !== expected.encoding || header.source !== expected.source) return undefined;
    const bin = readFileSync(files.bin);
    const slotBytes = SLOT_COUNT * Int32Array.BYTES_PER_ELEMENT;
    if (bin.length !== slotBytes + header.tokens + header.bytes || hashBytes(bin) !== header.sha256) return undefined;
    // A typed array's view must start at a multiple of its element size: the slots come first, copied if the buffer is not so aligned.
    const slots = bin.byteOffset % Int32Array.BYTES_PER_ELEMENT === 0 ? new Int32Array(bin.buffer, bin.byteOffset, SLOT_COUNT) : new Int32Array(bin.buffer.slice(bin.byteOffset, bin.byteOffset + slotBytes));
    return new RankTable(bin.subarray(slotBytes + header.tokens), bin.subarray(slotBytes, slotBytes + header.tokens), slots);
  } catch {
    return undefined;
  }
}

/** The `.bin` first: a reader between the two writes finds a hash that does not match, and rebuilds. */
function writeTable(files: Files, expected: Pick<Header, 'format' | 'encoding' | 'source'>, table: RankTable): void {
  const bin = Buffer.concat([new Uint8Array(table.slots.buffer, table.slots.byteOffset, table.slots.byteLength), table.lengths, table.bytes]);
  const sealed = seal(JSON.stringify({ ...expected, tokens: table.lengths.length, bytes: table.bytes.length, sha256: hashBytes(bin) } satisfies Header));
  if (sealed === undefined) return;
  writeFileAtomic(files.bin, bin);
  writeFileAtomic(files.json, sealed);
}

/** gpt-tokenizer's package.json is not among its exports: it is found beside the module that is. */
function gptTokenizerVersion(): string {
  const main = createRequire(import.meta.url).resolve('gpt-tokenizer');
  const manifest = JSON.parse(readFileSync(join(dirname(main), '..', 'package.json'), 'utf8')) as { name?: string; version?: string };
  if (manifest.name !== 'gpt-tokenizer' || typeof manifest.version !== 'string') throw new Error(`no version of gpt-tokenizer beside ${main}`);
  return manifest.version;
}
