import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { noteRebuilt } from '../util/note.js';
import { seal, unsealJson } from '../util/sealed.js';
import { isRecord } from '../util/shape.js';
import type { PipelineConfig } from './types.js';

/**
 * Bump whenever the schema, resolution or checks change what a given
 * spx.yaml text loads to: entries of another format are ignored.
 * 6: sealed.
 */
export const CONFIG_CACHE_FORMAT = 6;

const CACHE_FILE = 'config-cache.json';

/** What a cached config is valid for: the same text, resolved against the same root. */
export interface ConfigCacheKey {
  sha256: string;
  root: string;
}

/** A file besides spx.yaml that the config was made from (the pipeline `extends` names). */
export interface SourceHash {
  file: string;
  sha256: string;
}

interface CacheEntry extends ConfigCacheKey {
  format: number;
  config: PipelineConfig;
  /** Checked on every hit: a changed base pipeline (a new spx) changes the config. */
  sources: SourceHash[];
}

/**
 * The config a previous load produced from this exact text, so that a no-op
 * build skips parsing and schema compilation. One entry: the pipeline last
 * loaded with this state directory.
 *
 * Why the entry is sealed (sealed.ts) rather than merely keyed by the hash
 * of spx.yaml: the config holds the commands spx runs and the paths it
 * writes, and was checked only when the entry was made. A hash is no proof
 * of that: whoever can write `.spx/` knows spx.yaml too, so could pair its
 * true hash with a config that writes `../` or runs anything. Re-running the
 * checks on every load would not do either: they cannot tell a forged
 * command from a real one. Only a MAC under a key kept out of the project
 * can show the entry is one this account's spx made from this text after
 * every check passed; any other entry is a miss, and spx.yaml is read again.
 */
export async function readCachedConfig(stateDir: string, key: ConfigCacheKey): Promise<PipelineConfig | undefined> {
  const file = path.join(stateDir, CACHE_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    // Absent or unreadable: a miss, and the next load rewrites it.
    return undefined;
  }
  const opened = unsealJson(text);
  if ('problem' in opened) {
    if (opened.problem !== undefined) noteRebuilt(file, opened.problem);
    return undefined;
  }
  const entry = opened.value;
  if (!isRecord(entry)) return undefined;
  const hit =
    entry.format === CONFIG_CACHE_FORMAT &&
    entry.sha256 === key.sha256 &&
    entry.root === key.root &&
    isRecord(entry.config) &&
    Array.isArray(entry.sources) &&
    (await sourcesUnchanged(entry.sources as SourceHash[]));
  return hit ? (entry.config as PipelineConfig) : undefined;
}

async function sourcesUnchanged(sources: SourceHash[]): Promise<boolean> {
  for (const source of sources) {
    let text: Buffer;
    try {
      text = await readFile(source.file);
    } catch {
      return false;
    }
    if (createHash('sha256').update(text).digest('hex') !== source.sha256) return false;
  }
  return true;
}

/** Only for configs that passed every check. Best effort: a state dir we cannot write only costs speed. */
export async function writeCachedConfig(stateDir: string, key: ConfigCacheKey, config: PipelineConfig, sources: SourceHash[] = []): Promise<void> {
  const entry: CacheEntry = { format: CONFIG_CACHE_FORMAT, sha256: key.sha256, root: key.root, config, sources };
  const sealed = seal(JSON.stringify(entry));
  // No key to seal with: an unsealed entry would never be believed.
  if (sealed === undefined) return;
  const target = path.join(stateDir, CACHE_FILE);
  // Same directory as the target, so the rename is atomic and readers never see half a file.
  const temp = `${target}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    await mkdir(stateDir, { recursive: true });
    await writeFile(temp, sealed);
    await rename(temp, target);
  } catch {
    await unlink(temp).catch(() => undefined);
  }
}
