import { createHash } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { UserError, UserErrors } from '../util/errors.js';
import { withoutPrototype } from '../util/name-table.js';
import { readCachedConfig, writeCachedConfig, type ConfigCacheKey, type SourceHash } from './config-cache.js';
import type { ProjectPipeline } from './extends.js';
import { SHIPPED_PIPELINES_DIR } from './pipelines.js';
import type { LoadedPipeline, PipelineConfig } from './types.js';

export interface LoadOptions {
  /** Directory all paths are relative to; defaults to the pipeline file's directory. */
  root?: string;
  /** Where the config cache lives; defaults to `<root>/.spx`. */
  stateDir?: string;
  /** Read and write the config cache (default true); `spx validate` checks the file afresh and writes nothing. */
  cache?: boolean;
  /** Where `extends: NAME` finds NAME.yaml; defaults to the pipelines that ship with spx. */
  pipelinesDir?: string;
  /** Replace foreach nodes by their instances (default true); false keeps them as written (spx init, spx new). */
  expand?: boolean;
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

  const useCache = options.cache ?? true;
  const expand = async (config: PipelineConfig): Promise<PipelineConfig> => {
    // Loaded only for a pipeline that has foreach nodes: start-up is part of every no-op build.
    if (options.expand === false || !hasForeach(config)) return config;
    return (await import('./instances.js')).expandInstances(config, root);
  };

  const text = await readPipelineText(absoluteFile);
  // The pipelines `extends` may name are part of what the text means: another
  // spx (another pipelines directory) must not be served this one's config.
  const pipelinesDir = options.pipelinesDir ?? SHIPPED_PIPELINES_DIR;
  // So are its own path and the state directory's: outputs may be neither.
  const sha256 = createHash('sha256').update(`${pipelinesDir}\0${absoluteFile}\0${stateDir}\0`).update(text).digest('hex');
  const key: ConfigCacheKey = { sha256, root };
  const cached = useCache ? await readCachedConfig(stateDir, key) : undefined;
  if (cached) return { file: absoluteFile, root, config: await expand(withNameTables(cached)) };

  const { config, sources } = await compilePipeline(text, absoluteFile, root, stateDir, pipelinesDir);
  if (useCache) await writeCachedConfig(stateDir, key, config, sources);
  return { file: absoluteFile, root, config: await expand(config) };
}

/**
 * JSON from the config cache holds plain objects; the tables keyed by the
 * user's names must not be. Made so in place (the entry was just parsed and
 * is no one else's): copying 20,000 nodes costs a no-op tens of milliseconds.
 */
function withNameTables(config: PipelineConfig): PipelineConfig {
  withoutPrototype(config.vars);
  withoutPrototype(config.providers);
  withoutPrototype(config.nodes);
  return config;
}

/** A loop, not Object.values(…).some: this runs on every load, over every node. */
function hasForeach(config: PipelineConfig): boolean {
  for (const name in config.nodes) if (config.nodes[name]!.foreach !== undefined) return true;
  return false;
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

async function compilePipeline(
  text: string,
  file: string,
  root: string,
  stateDir: string,
  pipelinesDir: string,
): Promise<{ config: PipelineConfig; sources: SourceHash[] }> {
  const [{ parseYaml }, { validateSchema }, { applyExtends }, { resolvePipeline }, { checkSemantics }, { checkForeach }] = await Promise.all([
    import('./parse-yaml.js'),
    import('./validate-schema.js'),
    import('./extends.js'),
    import('./resolve.js'),
    import('./check-semantics.js'),
    import('./foreach.js'),
  ]);
  const { data, locator: projectLocator } = parseYaml(text, file);

  const schemaErrors = validateSchema(data, projectLocator);
  // Past the schema the shapes are trusted; checking further would only pile errors on bad shapes.
  if (schemaErrors.length > 0) throw new UserErrors(sortByLocation(schemaErrors));

  const { raw, locator, sources } = applyExtends(data as ProjectPipeline, projectLocator, pipelinesDir);
  const { config, errors } = resolvePipeline(raw, root, locator);
  const inProject = (absolute: string): string | undefined => {
    const relative = path.relative(root, absolute).split(path.sep).join('/');
    return relative === '' || relative === '..' || relative.startsWith('../') || path.isAbsolute(relative) ? undefined : relative;
  };
  const protectedPaths = {
    // By the name it was opened with and by where it really is (spx.yaml may be a link).
    pipelineFiles: [file, realpathSync(file), ...sources.map((source) => source.file)].flatMap((f) => inProject(f) ?? []),
    stateDir: inProject(stateDir),
  };
  errors.push(...checkSemantics(config, locator, protectedPaths), ...checkForeach(raw.nodes, config, locator));
  if (errors.length > 0) throw new UserErrors(sortByLocation(errors));
  return { config, sources };
}

/** By file (with extends, errors may lie in the base pipeline too), then by place in it. */
function sortByLocation(errors: UserError[]): UserError[] {
  return [...errors].sort(
    (a, b) =>
      (a.location?.file ?? '').localeCompare(b.location?.file ?? '') ||
      (a.location?.line ?? 0) - (b.location?.line ?? 0) ||
      (a.location?.column ?? 0) - (b.location?.column ?? 0),
  );
}
