import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { PipelineConfig } from './types.js';

/**
 * Bump whenever the schema, resolution or checks change what a given
 * spx.yaml text loads to: entries of another format are ignored.
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
 */
export async function readCachedConfig(stateDir: string, key: ConfigCacheKey): Promise<PipelineConfig | undefined> {
  let entry: Partial<CacheEntry>;
  try {
    entry = JSON.parse(await readFile(path.join(stateDir, CACHE_FILE), 'utf8')) as Partial<CacheEntry>;
  } catch {
    // Absent or unreadable: a miss, and the next load rewrites it.
    return undefined;
  }
  const hit =
    entry !== null &&
    typeof entry === 'object' &&
    entry.format === CONFIG_CACHE_FORMAT &&
    entry.sha256 === key.sha256 &&
    entry.root === key.root &&
    typeof entry.config === 'object' &&
    entry.config !== null &&
    Array.isArray(entry.sources) &&
    (await sourcesUnchanged(entry.sources));
  return hit ? entry.config : undefined;
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
  const target = path.join(stateDir, CACHE_FILE);
  // Same directory as the target, so the rename is atomic and readers never see half a file.
  const temp = `${target}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    await mkdir(stateDir, { recursive: true });
    await writeFile(temp, JSON.stringify(entry));
    await rename(temp, target);
  } catch {
    await unlink(temp).catch(() => undefined);
  }
}
