import { isAbsolute, join, resolve } from 'node:path';
import type { LoadedPipeline } from '../config/types.js';
import { findPipelineFile, PIPELINE_FILE } from '../config/find-pipeline.js';

export interface ProjectOptions {
  /** `-C DIR`: run as if started in DIR. */
  directory: string | undefined;
  /** `-f FILE`: the pipeline file, relative to DIR. */
  file: string | undefined;
  /** Keep foreach nodes as written instead of their instances (spx new). */
  expand?: boolean;
  /** Use the config cache (default true); `spx check` writes nothing, so not even it. */
  cache?: boolean;
}

export interface Project {
  pipeline: LoadedPipeline;
  /** Local, uncommitted state: `.spx/` in the project root. */
  stateDir: string;
}

/**
 * The pipeline file: `-f FILE` as given (relative to `-C DIR`), else the
 * spx.yaml found walking up from DIR or the working directory.
 */
export function projectFile(options: ProjectOptions): string {
  const directory = resolve(options.directory ?? '.');
  if (options.file === undefined) return findPipelineFile(directory);
  return isAbsolute(options.file) ? options.file : join(directory, options.file);
}

/** Where `spx init` writes: `-f FILE` (relative to `-C DIR`), else spx.yaml right here; never a parent's. */
export function newProjectFile(options: ProjectOptions): string {
  return resolve(options.directory ?? '.', options.file ?? PIPELINE_FILE);
}

export async function openProject(options: ProjectOptions): Promise<Project> {
  const file = projectFile(options);
  const root = resolve(file, '..');
  const stateDir = join(root, '.spx');
  // Loaded here, not above: a build that finds nothing changed (fresh-build.ts) needs the file's name only.
  const { loadPipeline } = await import('../config/load.js');
  const pipeline = await loadPipeline(file, { root, stateDir, ...(options.expand === false ? { expand: false } : {}), ...(options.cache === false ? { cache: false } : {}) });
  return { pipeline, stateDir };
}
