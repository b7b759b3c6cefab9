import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic-write.js';
import { hashBytes } from '../util/hash.js';
import { seal, unsealJson } from '../util/sealed.js';

/**
 * The encoding spx counts prompt tokens with, offline: gpt-tokenizer's
 * o200k_base, the tokenizer repomix ships (and a context bundle's default
 * `tokenEncoding`). No provider publishes its own tokenizer for offline
 * use; for Gemini the count is an estimate (`--exact` asks Gemini itself).
 */
export const TOKEN_ENCODING = 'o200k_base';

/** How many counts the cache keeps: a few forecasts' worth of prompts. */
const KEPT_COUNTS = 500;

type CountFunction = (text: string) => number;
let loaded: Promise<CountFunction> | undefined;

/**
 * The tokenizer, loaded once per process and only when a count is not
 * cached: a rank table kept in `stateDir` (rank-table-file.ts, ~50 ms to
 * load) counting as gpt-tokenizer counts; gpt-tokenizer itself (~0.4 s to
 * load its tables) for a vocabulary such a table cannot hold.
 */
export function loadTokenizer(stateDir: string | undefined): Promise<CountFunction> {
  loaded ??= (async () => {
    const [{ loadRankTable }, { countTokens }] = await Promise.all([import('./rank-table-file.js'), import('./bpe-count.js')]);
    const table = await loadRankTable(TOKEN_ENCODING, stateDir);
    if (typeof table !== 'string') return (text: string) => countTokens(table, text);
    return gptTokenizer();
  })();
  return loaded;
}

async function gptTokenizer(): Promise<CountFunction> {
  const { GptEncoding } = await import('gpt-tokenizer/GptEncoding');
  const { resolveEncodingAsync } = await import('gpt-tokenizer/resolveEncodingAsync');
  const ranks = await resolveEncodingAsync(TOKEN_ENCODING);
  const encoding = GptEncoding.getEncodingApi(TOKEN_ENCODING, () => ranks);
  // Text that looks like a special token (<|endoftext|>) is counted as plain text, as repomix does.
  const plain = { disallowedSpecial: new Set<string>() };
  return (text: string) => encoding.countTokens(text, plain);
}

/**
 * Token counts of texts seen before, by content hash, kept in
 * `.spx/token-counts.json`: a forecast of an unchanged prompt neither
 * loads the tokenizer nor reads the text twice. Sealed (util/sealed.ts):
 * counts planted in `.spx/` could make a too-expensive build fit a budget.
 */
export class TokenCounts {
  private readonly counts: Map<string, number>;
  private changed = false;

  private constructor(
    private readonly stateDir: string | undefined,
    private readonly file: string | undefined,
    counts: Record<string, number>,
  ) {
    this.counts = new Map(Object.entries(counts));
  }

  /** The counts kept in `stateDir`; none kept when `stateDir` is undefined. */
  static load(stateDir: string | undefined): TokenCounts {
    const file = stateDir === undefined ? undefined : join(stateDir, 'token-counts.json');
    return new TokenCounts(stateDir, file, file === undefined ? {} : readCounts(file));
  }

  /** `key`: the text's content hash, when the caller has it already. */
  async count(text: string, key: string = hashBytes(text)): Promise<number> {
    const known = this.counts.get(key);
    if (known !== undefined) return known;
    const counted = (await loadTokenizer(this.stateDir))(text);
    this.counts.set(key, counted);
    this.changed = true;
    return counted;
  }

  /** Writes what was counted since loading, keeping the newest counts. */
  save(): void {
    if (!this.file || !this.changed) return;
    const newest = [...this.counts].slice(-KEPT_COUNTS);
    const sealed = seal(JSON.stringify({ encoding: TOKEN_ENCODING, counts: Object.fromEntries(newest) }));
    if (sealed !== undefined) writeFileAtomic(this.file, sealed);
    this.changed = false;
  }
}

/** A damaged, foreign or unsealed file is a cache miss, never an error: counting again is always possible. */
function readCounts(file: string): Record<string, number> {
  if (!existsSync(file)) return {};
  try {
    const opened = unsealJson(readFileSync(file, 'utf8'));
    if ('problem' in opened) return {};
    const parsed = opened.value as { encoding?: unknown; counts?: unknown };
    if (parsed.encoding !== TOKEN_ENCODING || typeof parsed.counts !== 'object' || parsed.counts === null) return {};
    return Object.fromEntries(Object.entries(parsed.counts).filter(([, n]) => typeof n === 'number'));
  } catch {
    return {};
  }
}
