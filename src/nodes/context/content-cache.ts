import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../util/atomic-write.js';
import { hashBytes, type ContentHash } from '../../util/hash.js';
import { noteRebuilt } from '../../util/note.js';
import { seal, unsealJson } from '../../util/sealed.js';
import { isRecord } from '../../util/shape.js';
import { withoutPrototype } from '../../util/name-table.js';

/** 2: sealed (see sealed.ts). 3: a position before a full stop (`a.ts:12.`) is stripped from mentions. */
const FORMAT = 3;
const FILE = 'context-cache.json';

/** [content hash, what was learnt from that content]. */
type Entry<T> = [ContentHash, T];

interface CacheFile {
  format: number;
  /** Regular expression → path → whether the content matches. */
  contains: Record<string, Record<string, Entry<boolean>>>;
  /** Path → the path-like words in its content. */
  mentions: Record<string, Entry<string[]>>;
}

/**
 * What selection learnt from file contents, keyed by content hash, so that
 * a no-op build reads no file: the stat cache vouches for the hash, this
 * for what the content said. `.spx/context-cache.json`; one entry per
 * (regex, path) and per path, replaced when the content changes, so it
 * grows with the project, not with its history.
 */
export class ContentCache {
  private static readonly open = new Map<string, ContentCache>();
  private dirty = false;

  private constructor(
    private readonly file: string,
    private readonly data: CacheFile,
  ) {}

  /** One instance per state directory and process: every context node of a build shares it. */
  static for(stateDir: string): ContentCache {
    const file = join(stateDir, FILE);
    let cache = ContentCache.open.get(file);
    if (!cache) {
      cache = new ContentCache(file, load(file));
      ContentCache.open.set(file, cache);
    }
    return cache;
  }

  /** Whether `regex` matches the content of `path`, whose current hash is `hash`; reads the file only when unknown. */
  contains(regex: RegExp, root: string, path: string, hash: ContentHash): boolean {
    const byPath = (this.data.contains[regex.source] ??= Object.create(null) as Record<string, Entry<boolean>>);
    const known = byPath[path];
    if (known && known[0] === hash) return known[1];
    const content = readFileSync(join(root, path));
    const matches = regex.test(content.toString('utf8'));
    // Keyed by the bytes actually read: were the file rewritten since it was
    // hashed, the entry is simply not found next time.
    byPath[path] = [hashBytes(content), matches];
    this.dirty = true;
    return matches;
  }

  /** The words `extract` finds in the content of `path`, whose current hash is `hash`; reads the file only when unknown. */
  mentions(root: string, path: string, hash: ContentHash, extract: (text: string) => string[]): string[] {
    const known = this.data.mentions[path];
    if (known && known[0] === hash) return known[1];
    const content = readFileSync(join(root, path));
    const words = extract(content.toString('utf8'));
    this.data.mentions[path] = [hashBytes(content), words];
    this.dirty = true;
    return words;
  }

  /** Best effort: a cache that cannot be written costs reading the files again next time. */
  save(): void {
    if (!this.dirty) return;
    try {
      const sealed = seal(JSON.stringify(this.data));
      if (sealed === undefined) return;
      writeFileAtomic(this.file, sealed);
      this.dirty = false;
    } catch {
      // Nothing lost but time.
    }
  }
}

/**
 * The cache as this account's spx wrote it (sealed.ts), else an empty one: a
 * forged "matches" could otherwise put any file of the project in a bundle.
 */
function load(file: string): CacheFile {
  const empty = (): CacheFile => ({ format: FORMAT, contains: Object.create(null) as CacheFile['contains'], mentions: Object.create(null) as CacheFile['mentions'] });
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    // Absent: every file is read once.
    return empty();
  }
  const opened = unsealJson(text);
  if ('problem' in opened) {
    if (opened.problem !== undefined) noteRebuilt(file, opened.problem);
    return empty();
  }
  const parsed = opened.value;
  if (!isRecord(parsed) || parsed.format !== FORMAT || !isRecord(parsed.contains) || !isRecord(parsed.mentions)) return empty();
  for (const regex in parsed.contains) withoutPrototype(parsed.contains[regex] as object);
  return { format: FORMAT, contains: withoutPrototype(parsed.contains) as CacheFile['contains'], mentions: withoutPrototype(parsed.mentions) as CacheFile['mentions'] };
}
