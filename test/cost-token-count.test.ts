import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes, createHmac } from 'node:crypto';
import { GptEncoding } from 'gpt-tokenizer/GptEncoding';
import { countTokens as gptCount } from 'gpt-tokenizer/encoding/o200k_base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countTokens } from '../src/cost/bpe-count.js';
import { RankTable, SLOT_COUNT, type Ranks } from '../src/cost/rank-table.js';
import { loadRankTable } from '../src/cost/rank-table-file.js';
import { hashBytes } from '../src/util/hash.js';
import { readSealed, writeSealed } from './helpers/sealed.js';
import { cleanupProjects, createProject, jsonEvents, type TestProject } from './helpers/project.js';

const plain = { disallowedSpecial: new Set<string>() };

/** Texts where a counter could go wrong: code, scripts of many languages, emoji, marks, a byte-order mark, lone surrogates. */
const TEXTS = [
  'hello world',
  readFileSync(new URL('../src/cost/forecast.ts', import.meta.url), 'utf8'),
  readFileSync(new URL('../docs/cost.md', import.meta.url), 'utf8'),
  'Grüße aus Köln: Ärger über Öl, ß und İstanbul; naïve café, ﬁne.',
  '中文分词测试：我们今天去公园散步。日本語のテキストも、ひらがなとカタカナ。한국어 문장입니다.',
  'Привет, мир! Ελληνικά γράμματα. עברית מימין לשמאל. العربية أيضا. हिन्दी भाषा। தமிழ் ಕನ್ನಡ',
  'emoji 😀👍🏽 family 👨‍👩‍👧‍👦 flags 🇫🇷🇯🇵 keycap 1️⃣ and e\u0301 (combining) ǅ',
  '\uFEFFa file that starts with a byte-order mark, and \uFEFF one inside \uFEFF\uFEFF',
  // gpt-tokenizer drops a byte-order mark from the front of a pair it looks up: here, that finds a token.
  '\uFEFF\u1784 and \uFEFF\u1784x',
  'lone surrogates \uD800 and \uDC00x and a replacement \uFFFD character',
  'special-looking <|endoftext|> and <|im_start|>user text <|fim_prefix|>',
  `tabs\t\tand\r\nwindows lines\n\n\n${' '.repeat(300)}end${'\n'.repeat(50)}`,
  `${'a'.repeat(5000)} ${'ab'.repeat(3000)} 1234567890123 ${'=-'.repeat(400)}`,
  `${String.fromCodePoint(...Array.from({ length: 400 }, (_, i) => 0x1f300 + ((i * 7919) % 0x2ff)))} ${String.fromCodePoint(...Array.from({ length: 400 }, (_, i) => 0x4e00 + ((i * 104729) % 0x5000)))}`,
];

const dirs: string[] = [];
function stateDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'spx-ranks-'));
  dirs.push(dir);
  return dir;
}

let gptRanks: Ranks;
beforeAll(async () => {
  gptRanks = ((await import('gpt-tokenizer/bpeRanks/o200k_base')) as { default: Ranks }).default;
});

afterAll(async () => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  await cleanupProjects();
});

describe('counting with the rank table', () => {
  it('counts exactly the tokens gpt-tokenizer counts with o200k_base', async () => {
    const table = await loadRankTable('o200k_base', stateDir());
    // Not gpt-tokenizer's fallback: the table itself counts.
    expect(table).toBeInstanceOf(RankTable);
    for (const text of TEXTS) expect(countTokens(table as RankTable, text), text.slice(0, 60)).toBe(gptCount(text, plain));
  });

  it('counts the same from a table read back from its file as from one just built', async () => {
    const dir = stateDir();
    const built = (await loadRankTable('o200k_base', dir)) as RankTable;
    const bin = readFileSync(path.join(dir, 'token-ranks-o200k_base.bin'));
    const read = (await loadRankTable('o200k_base', dir)) as RankTable;
    expect(readFileSync(path.join(dir, 'token-ranks-o200k_base.bin')).equals(bin)).toBe(true);
    for (const text of TEXTS) expect(countTokens(read, text)).toBe(countTokens(built, text));
  });

  it('keeps gpt-tokenizer’s quirks on a vocabulary made of them', () => {
    // Every byte; U+FFFD, whose bytes merging pairs cannot reach, only a lookup of the whole piece;
    // and "hi" kept as bytes, which gpt-tokenizer looks up among its strings only, so never finds.
    const ranks: Ranks = [...Array.from({ length: 256 }, (_, byte) => (byte < 0x80 ? String.fromCharCode(byte) : [byte])), '\uFFFD', [0x68, 0x69]];
    const gpt = GptEncoding.getEncodingApi('o200k_base', () => ranks as (string | number[])[]);
    const table = RankTable.fromRanks(ranks) as RankTable;
    for (const text of ['\uD800', 'a\uDC00b', '\uFFFD', '\uD83D\uDE00', 'hi', 'this']) expect(countTokens(table, text), JSON.stringify(text)).toBe(gpt.countTokens(text, plain));
    // A lone surrogate is not the U+FFFD it becomes in UTF-8.
    expect(countTokens(table, '\uD800')).toBe(3);
    expect(countTokens(table, 'hi')).toBe(2);
  });

  it('refuses a vocabulary it could not count as gpt-tokenizer does, so that gpt-tokenizer counts', () => {
    expect(RankTable.fromRanks(['a', 'b', 'a'])).toBe('token 2 has the bytes of token 0');
    expect(RankTable.fromRanks(['a', ''])).toBe('token 1 has 0 bytes');
    expect(RankTable.fromRanks(['\uD800'])).toBe('token 0 is not well-formed Unicode');
    expect(RankTable.fromRanks(gptRanks.slice(0, 200))).toMatch(/^byte \d+ is no token$/);
  });
});

/** The file's table with the bytes of `token` replaced by as many bytes no token has: a table that counts `token` wrong. */
function forged(dir: string, token: string): Buffer {
  const bin = readFileSync(path.join(dir, 'token-ranks-o200k_base.bin'));
  const header = readSealed<{ tokens: number }>(path.join(dir, 'token-ranks-o200k_base.json'));
  const lengths = bin.subarray(SLOT_COUNT * 4, SLOT_COUNT * 4 + header.tokens);
  const table = new RankTable(bin.subarray(SLOT_COUNT * 4 + header.tokens), lengths);
  const bytes = Buffer.from(token);
  const rank = table.rankOfText(token, bytes, bytes.length);
  const at = SLOT_COUNT * 4 + header.tokens + lengths.subarray(0, rank).reduce((sum, length) => sum + length, 0);
  const copy = Buffer.from(bin);
  copy.fill(0xff, at, at + bytes.length);
  return copy;
}

function tableOf(bin: Buffer, tokens: number): RankTable {
  return new RankTable(bin.subarray(SLOT_COUNT * 4 + tokens), bin.subarray(SLOT_COUNT * 4, SLOT_COUNT * 4 + tokens), new Int32Array(bin.buffer.slice(bin.byteOffset, bin.byteOffset + SLOT_COUNT * 4)));
}

describe('the rank table kept in .spx', () => {
  const text = 'hello world, the world says hello';
  const files = (dir: string) => ({ bin: path.join(dir, 'token-ranks-o200k_base.bin'), json: path.join(dir, 'token-ranks-o200k_base.json') });

  it('is rebuilt when its bytes were changed, and the change would have changed counts', async () => {
    const dir = stateDir();
    await loadRankTable('o200k_base', dir);
    const original = readFileSync(files(dir).bin);
    const bad = forged(dir, ' world');
    const tokens = readSealed<{ tokens: number }>(files(dir).json).tokens;
    // Believed, the forged table would count ' world' as several tokens.
    expect(countTokens(tableOf(bad, tokens), text)).toBeGreaterThan(gptCount(text));
    writeFileSync(files(dir).bin, bad);
    expect(countTokens((await loadRankTable('o200k_base', dir)) as RankTable, text)).toBe(gptCount(text));
    expect(readFileSync(files(dir).bin).equals(original)).toBe(true);
  });

  it('is rebuilt when the sealed description was rewritten to match forged bytes', async () => {
    const dir = stateDir();
    await loadRankTable('o200k_base', dir);
    const original = readFileSync(files(dir).bin);
    const bad = forged(dir, ' world');
    const sealedText = readFileSync(files(dir).json, 'utf8');
    const [sealLine, body] = sealedText.split('\n');
    const header = JSON.parse(body!) as { sha256: string };
    writeFileSync(files(dir).bin, bad);
    // The seal kept, the hash made to match the forged bytes.
    writeFileSync(files(dir).json, `${sealLine}\n${JSON.stringify({ ...header, sha256: hashBytes(bad) })}`);
    expect(countTokens((await loadRankTable('o200k_base', dir)) as RankTable, text)).toBe(gptCount(text));
    expect(readFileSync(files(dir).bin).equals(original)).toBe(true);

    // Sealed anew, but with a key that is not this account's.
    writeFileSync(files(dir).bin, bad);
    const forgedBody = JSON.stringify({ ...header, sha256: hashBytes(bad) });
    const key = randomBytes(32);
    writeFileSync(files(dir).json, `spx-sealed 0123456789abcdef ${createHmac('sha256', key).update(forgedBody).digest('hex')}\n${forgedBody}`);
    expect(countTokens((await loadRankTable('o200k_base', dir)) as RankTable, text)).toBe(gptCount(text));
    expect(readFileSync(files(dir).bin).equals(original)).toBe(true);
  });

  it('is rebuilt when cut short, or built from another gpt-tokenizer', async () => {
    const dir = stateDir();
    await loadRankTable('o200k_base', dir);
    const original = readFileSync(files(dir).bin);
    writeFileSync(files(dir).bin, original.subarray(0, original.length - 1000));
    expect(countTokens((await loadRankTable('o200k_base', dir)) as RankTable, text)).toBe(gptCount(text));
    expect(readFileSync(files(dir).bin).equals(original)).toBe(true);

    const header = readSealed<Record<string, unknown>>(files(dir).json);
    writeFileSync(files(dir).bin, forged(dir, ' world'));
    const bad = readFileSync(files(dir).bin);
    writeSealed(files(dir).json, { ...header, source: 'gpt-tokenizer 0.0.1', sha256: hashBytes(bad) });
    expect(countTokens((await loadRankTable('o200k_base', dir)) as RankTable, text)).toBe(gptCount(text));
    expect(readFileSync(files(dir).bin).equals(original)).toBe(true);
    expect(readSealed<{ source: string }>(files(dir).json).source).toMatch(/^gpt-tokenizer \d+\.\d+\.\d+/);
  });

  it('keeps a forecast exact when the table in a project was forged', async () => {
    const p = specProject();
    const counted = await specInputTokens(p);
    const spxDir = path.join(p.dir, '.spx');
    const original = readFileSync(files(spxDir).bin);
    writeFileSync(files(spxDir).bin, forged(spxDir, ' world'));
    rmSync(path.join(spxDir, 'token-counts.json'));
    expect(await specInputTokens(p)).toBe(counted);
    expect(readFileSync(files(spxDir).bin).equals(original)).toBe(true);
  });
});

describe('the token counts kept in .spx', () => {
  it('believes only counts this account sealed: planted ones could fit a build into a budget', async () => {
    const p = specProject();
    const counted = await specInputTokens(p);
    const file = path.join(p.dir, '.spx', 'token-counts.json');
    const kept = readSealed<{ encoding: string; counts: Record<string, number> }>(file);
    const planted = { ...kept, counts: Object.fromEntries(Object.keys(kept.counts).map((key) => [key, 1])) };
    writeFileSync(file, JSON.stringify(planted));
    expect(await specInputTokens(p)).toBe(counted);
    // Sealed by this account, the same counts are believed.
    writeSealed(file, planted);
    expect(await specInputTokens(p)).toBe(Object.keys(kept.counts).length);
  });
});

function specProject(): TestProject {
  return createProject(
    { 'USER-SPEC.md': '# Request\n\nSay hello to the world, and to the whole world.\n' },
    `version: 1
providers:
  gemini: { type: gemini, model: gemini-test, baseUrl: "http://127.0.0.1:9", retries: 0 }
defaults: { provider: gemini }
nodes:
  spec: { kind: spec, inputs: [USER-SPEC.md], output: AI-SPEC.md }
`,
  );
}

async function specInputTokens(p: TestProject): Promise<number> {
  const result = await p.spx(['build', '--dry-run', '--json']);
  expect(result.code, result.stderr).toBe(0);
  const stale = jsonEvents(result.stdout).find((event) => event.type === 'stale' && event.node === 'spec') as unknown as { estimate: { inputTokens: number } };
  return stale.estimate.inputTokens;
}
