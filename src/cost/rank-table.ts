import { tryConvertToString } from 'gpt-tokenizer/utfUtil';

/** Slots of the hash table: a power of two above twice the vocabulary, so probe runs stay short. */
export const SLOT_COUNT = 1 << 19;
const SLOT_MASK = SLOT_COUNT - 1;
/** The byte-order mark, which gpt-tokenizer's pair lookup drops from the front of a key. */
const BOM = [0xef, 0xbb, 0xbf] as const;
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/** What gpt-tokenizer's rank files hold: at index `rank`, the token as a string, or as bytes when they are not UTF-8. */
export type Ranks = readonly (string | readonly number[])[];

/**
 * The byte-pair ranks of an encoding as typed arrays (every token's bytes
 * end to end, their lengths, and an open-addressing hash table of ranks
 * keyed by bytes): read in milliseconds from a file, where
 * gpt-tokenizer's own tables (200,000 strings and a Map of them) take
 * ~0.4 s to load. The lookups answer exactly as gpt-tokenizer's
 * BytePairEncodingCore does, quirks included; `fromRanks` refuses a
 * vocabulary where that could not hold, and the caller then uses
 * gpt-tokenizer itself.
 */
export class RankTable {
  /** Open addressing: rank + 1 of a token whose bytes hash to the slot or probe on to it; 0 is empty. */
  readonly slots: Int32Array;
  private readonly ends: Uint32Array;

  /**
   * `lengths[rank]` bytes of `bytes` per token, in rank order; a length of
   * 0 is a token no lookup finds. `slots`, the hash table a table built
   * before made of the same tokens, saves making it again (~40 ms). Throws
   * for two tokens with the same bytes.
   */
  constructor(
    readonly bytes: Uint8Array,
    readonly lengths: Uint8Array,
    slots?: Int32Array,
  ) {
    if (lengths.length * 2 > SLOT_COUNT) throw new Error(`${lengths.length} tokens are too many for a hash table of ${SLOT_COUNT} slots`);
    if (slots !== undefined && slots.length !== SLOT_COUNT) throw new Error(`the hash table has ${slots.length} slots, not ${SLOT_COUNT}`);
    this.slots = slots ?? new Int32Array(SLOT_COUNT);
    this.ends = new Uint32Array(lengths.length);
    let end = 0;
    for (let rank = 0; rank < lengths.length; rank++) {
      const start = end;
      end += lengths[rank]!;
      this.ends[rank] = end;
      if (slots === undefined && end > start) this.insert(rank, start, end);
    }
    if (end !== bytes.length) throw new Error(`the token lengths add up to ${end} bytes, not ${bytes.length}`);
  }

  /**
   * The table of gpt-tokenizer's ranks; a string when there cannot be one
   * (it names what gpt-tokenizer would do that this table would not).
   */
  static fromRanks(ranks: Ranks): RankTable | string {
    // Written in place, token after token: 200,000 small arrays would cost more than the table saves.
    const all = Buffer.alloc(ranks.reduce<number>((sum, token) => sum + token.length * 3, 0));
    const lengths = new Uint8Array(ranks.length);
    let at = 0;
    for (const [rank, token] of ranks.entries()) {
      let length: number;
      if (typeof token === 'string') {
        if (LONE_SURROGATE.test(token)) return `token ${rank} is not well-formed Unicode`;
        length = all.write(token, at, 'utf8');
      } else {
        all.set(token, at);
        // gpt-tokenizer looks bytes that are UTF-8 up among its strings only: a token kept as such bytes is never found.
        length = tryConvertToString(all.subarray(at, at + token.length)) === undefined ? token.length : 0;
      }
      if (length > 255 || (length === 0 && typeof token === 'string')) return `token ${rank} has ${length} bytes`;
      lengths[rank] = length;
      at += length;
    }
    try {
      const table = new RankTable(all.subarray(0, at), lengths);
      return table.missingByte() ?? table;
    } catch (error) {
      return (error as Error).message;
    }
  }

  /** The rank of a piece of text found whole (gpt-tokenizer's `getBpeRankFromString`), or -1. */
  rankOfText(piece: string, utf8: Uint8Array, length: number): number {
    // Bytes cannot tell a lone surrogate from U+FFFD, which a string lookup would.
    return LONE_SURROGATE.test(piece) ? -1 : this.find(utf8, 0, length);
  }

  /** The rank of the bytes `from`..`to` of `key` (gpt-tokenizer's `getBpeRankFromBytes`), or -1. */
  rankOfBytes(key: Uint8Array, from: number, to: number): number {
    // Bytes that are UTF-8 are decoded before the lookup, and decoding drops a leading byte-order mark.
    if (key[from] === BOM[0] && key[from + 1] === BOM[1] && key[from + 2] === BOM[2] && tryConvertToString(key.subarray(from, to)) !== undefined) {
      return to - from === BOM.length ? -1 : this.find(key, from + BOM.length, to);
    }
    return this.find(key, from, to);
  }

  private find(key: Uint8Array, from: number, to: number): number {
    for (let slot = hashOf(key, from, to) & SLOT_MASK; this.slots[slot] !== 0; slot = (slot + 1) & SLOT_MASK) {
      const rank = this.slots[slot]! - 1;
      if (this.holds(rank, key, from, to)) return rank;
    }
    return -1;
  }

  /** Two tokens with the same bytes would make the answer depend on which lookup gpt-tokenizer uses. */
  private insert(rank: number, start: number, end: number): void {
    let slot = hashOf(this.bytes, start, end) & SLOT_MASK;
    for (; this.slots[slot] !== 0; slot = (slot + 1) & SLOT_MASK) {
      if (this.holds(this.slots[slot]! - 1, this.bytes, start, end)) throw new Error(`token ${rank} has the bytes of token ${this.slots[slot]! - 1}`);
    }
    this.slots[slot] = rank + 1;
  }

  private holds(rank: number, key: Uint8Array, from: number, to: number): boolean {
    const end = this.ends[rank]!;
    const start = end - this.lengths[rank]!;
    if (end - start !== to - from) return false;
    for (let i = 0; i < to - from; i++) if (this.bytes[start + i] !== key[from + i]) return false;
    return true;
  }

  /** gpt-tokenizer throws for a byte that is no token, where a count would go on. */
  private missingByte(): string | undefined {
    for (let byte = 0; byte < 256; byte++) if (this.rankOfBytes(Uint8Array.of(byte), 0, 1) === -1) return `byte ${byte} is no token`;
    return undefined;
  }
}

/** FNV-1a, 32 bits. */
function hashOf(bytes: Uint8Array, from: number, to: number): number {
  let hash = 0x811c9dc5;
  for (let i = from; i < to; i++) hash = Math.imul(hash ^ bytes[i]!, 0x01000193);
  return hash >>> 0;
}
