import { O200K_TOKEN_SPLIT_REGEX } from 'gpt-tokenizer/encodingParams/constants';
import type { RankTable } from './rank-table.js';

const encoder = new TextEncoder();
/** A piece's UTF-8 bytes, written in place: most pieces are a few bytes, and allocating for each would dominate. */
let scratch = new Uint8Array(1024);

/**
 * The o200k_base tokens of `text`, counted with `table` exactly as
 * gpt-tokenizer's `countTokens(text, { disallowedSpecial: new Set() })`
 * counts them (BytePairEncodingCore's countNative and bytePairMerge, step
 * by step): text that looks like a special token counts as plain text.
 */
export function countTokens(table: RankTable, text: string): number {
  let count = 0;
  for (const [piece] of text.matchAll(O200K_TOKEN_SPLIT_REGEX)) {
    if (scratch.length < piece.length * 3) scratch = new Uint8Array(piece.length * 3);
    const length = encoder.encodeInto(piece, scratch).written;
    count += table.rankOfText(piece, scratch, length) === -1 ? mergedParts(table, scratch, length) : 1;
  }
  return count;
}

/**
 * How many tokens byte-pair merging leaves of `bytes[0..length)`: the
 * pair of lowest rank (the first of equals) merges until no pair is a
 * token.
 */
function mergedParts(table: RankTable, bytes: Uint8Array, length: number): number {
  const starts: number[] = [];
  const ranks: number[] = [];
  const pairRank = (i: number): number => (starts[i + 2] === undefined ? Infinity : rankOr(table, bytes, starts[i]!, starts[i + 2]!));
  for (let i = 0; i <= length; i++) {
    starts.push(i);
    ranks.push(i < length - 1 ? rankOr(table, bytes, i, i + 2) : Infinity);
  }
  while (starts.length > 1) {
    let lowest = Infinity;
    let at = -1;
    for (let i = 0; i < ranks.length - 1; i++) {
      if (ranks[i]! < lowest) {
        lowest = ranks[i]!;
        at = i;
      }
    }
    if (at === -1) break;
    starts.splice(at + 1, 1);
    ranks.splice(at, 1);
    ranks[at] = pairRank(at);
    if (at > 0) ranks[at - 1] = pairRank(at - 1);
  }
  return starts.length - 1;
}

function rankOr(table: RankTable, bytes: Uint8Array, from: number, to: number): number {
  const rank = table.rankOfBytes(bytes, from, to);
  return rank === -1 ? Infinity : rank;
}
