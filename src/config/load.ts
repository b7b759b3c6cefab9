import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { UserError, UserErrors } from '../util/errors.js';
import { checkSemantics } from './check-semantics.js';
import { readCachedConfig, writeCachedConfig, type ConfigCacheKey } from './config-cache.js';
import { resolvePipeline, type RawPipeline } from './resolve.js';
import type { LoadedPipeline, PipelineConfig } from './types.js';

export interface LoadOptions {
  /** Directory all paths are relative to; defaults to the pipeline file's directory. */
  root?: string;
  /** Where the config cache lives; defaults to `<root>/.spx`. */
  stateDir?: string;
}

/**
 * Reads, validates and resolves a pipeline file. Throws UserErrors listing
 * every problem found, each located in the file.
 *
 * A text loaded before is served from the config cache: yaml and ajv are
 * imported only on a miss, because every no-op build pays for start-up.
 */
export async function loadPipeline(file: string, options: LoadOptions = {}): Promise<LoadedPipeline> {
  const absoluteFile = path.resolve(file);
  const root = path.resolve(options.root ?? path.dirname(absoluteFile));
  const stateDir = path.resolve(options.stateDir ?? path.join(root, '.spx'));

  const text = await readPipelineText(absoluteFile);
  const key: ConfigCacheKey = { sha256: createHash('sha256').update(text).digest('hex'), root };
  const cached = await readCachedConfig(stateDir, key);
  if (cached) return { file: absoluteFile, root, config: cached };

  const config = await compilePipeline(text, absoluteFile, root);
  await writeCachedConfig(stateDir, key, config);
  return { file: absoluteFile, root, config };
}

async function readPipelineText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new UserErrors([
        new UserError(`pipeline file ${file} not found: run "spx init" to create one, or name another with -f FILE`),
      ]);
    }
    if (code === 'EISDIR') {
      throw new UserErrors([new UserError(`pipeline file ${file} is a directory: name a file with -f FILE`)]);
    }
    throw error;
  }
}

async function compilePipeline(text: string, file: string, root: string): Promise<PipelineConfig> {
  const [{ parseYaml }, { validateSchema }] = await Promise.all([
    import('./parse-yaml.js'),
    import('./validate-schema.js'),
  ]);
  const { data, locator } = parseYaml(text, file);

  const schemaErrors = validateSchema(data, locator);
  // Past the schema the shapes are trusted; checking further would only pile errors on bad shapes.
  if (schemaErrors.length > 0) throw new UserErrors(sortByLocation(schemaErrors));

  const { config, errors } = resolvePipeline(data as RawPipeline, root, locator);
  errors.push(...checkSemantics(config, locator));
  if (errors.length > 0) throw new UserErrors(sortByLocation(errors));
  return config;
}

function sortByLocation(errors: UserError[]): UserError[] {
  return [...errors].sort(
    (a, b) => (a.location?.line ?? 0) - (b.location?.line ?? 0) || (a.location?.column ?? 0) - (b.location?.column ?? 0),
  );
}
