import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { UserError, UserErrors } from '../util/errors.js';
import { mergeTables } from '../util/name-table.js';
import type { SourceHash } from './config-cache.js';
import { parseYaml } from './parse-yaml.js';
import { pipelineFile, pipelineNames } from './pipelines.js';
import type { RawPipeline } from './resolve.js';
import { validateSchema } from './validate-schema.js';
import type { Locator, YamlPath } from './yaml-path.js';

/** A project file as the schema admits it: with `extends`, it may leave `nodes` to the base. */
export type ProjectPipeline = Omit<RawPipeline, 'nodes'> & { extends?: string; nodes?: RawPipeline['nodes'] };

/** The maps whose entries a project replaces one by one. */
const KEYED_SECTIONS = ['providers', 'vars', 'defaults', 'nodes'] as const;

export interface ExtendedPipeline {
  raw: RawPipeline;
  /** Points into the project file for what it wrote, into the base pipeline for what it left alone. */
  locator: Locator;
  /** The base pipeline's file and content hash: the config cache must notice when it changes. */
  sources: SourceHash[];
}

/**
 * `extends: NAME`: the project starts from the shipped pipeline
 * `pipelines/NAME.yaml`. Its `providers`, `vars`, `defaults` and `nodes`
 * entries replace the base's by key, a node whole (a node is one recipe;
 * merging its keys would mix two recipes); new entries are added after the
 * base's. Any other top-level key the project sets replaces the base's.
 *
 * Both files must pass the schema on their own; errors point into the file
 * that holds the offending text.
 */
export function applyExtends(project: ProjectPipeline, projectLocator: Locator, pipelinesDir: string): ExtendedPipeline {
  if (project.extends === undefined) return { raw: project as RawPipeline, locator: projectLocator, sources: [] };

  const name = project.extends;
  const file = pipelineFile(name, pipelinesDir);
  if (file === undefined) {
    const known = pipelineNames(pipelinesDir);
    throw new UserErrors([
      new UserError(`unknown pipeline "${name}" in extends; spx ships: ${known.join(', ')}`, projectLocator.value(['extends'])),
    ]);
  }
  const text = readFileSync(file, 'utf8');
  const { data, locator: baseLocator } = parseYaml(text, file);
  const errors = validateSchema(data, baseLocator);
  if (errors.length > 0) throw new UserErrors(errors);
  const base = data as ProjectPipeline;
  if (base.extends !== undefined) {
    throw new UserErrors([new UserError(`pipeline "${name}" extends another; a base pipeline must be complete`, baseLocator.value(['extends']))]);
  }

  return {
    raw: mergePipelines(base as RawPipeline, project),
    locator: mergedLocator(project, projectLocator, baseLocator),
    sources: [{ file, sha256: createHash('sha256').update(text).digest('hex') }],
  };
}

/** The base with the project's entries laid over it (see applyExtends). */
export function mergePipelines(base: RawPipeline, project: ProjectPipeline): RawPipeline {
  const { extends: _name, ...overrides } = project;
  const merged: Record<string, unknown> = { ...base, ...overrides };
  for (const section of KEYED_SECTIONS) {
    if (base[section] !== undefined && project[section] !== undefined) merged[section] = mergeTables<unknown>(base[section], project[section]);
    else merged[section] = project[section] ?? base[section];
    if (merged[section] === undefined) delete merged[section];
  }
  return merged as unknown as RawPipeline;
}

/** Routes each path to the file whose text produced the value there. */
function mergedLocator(project: ProjectPipeline, projectLocator: Locator, baseLocator: Locator): Locator {
  const owner = (path: YamlPath): Locator => {
    const [section, key] = path;
    if (section === undefined) return projectLocator;
    const written = (project as Record<string, unknown>)[String(section)];
    if (written === undefined || written === null) return baseLocator;
    const keyed = (KEYED_SECTIONS as readonly unknown[]).includes(section);
    if (!keyed || key === undefined) return projectLocator;
    return Object.hasOwn(written as object, String(key)) ? projectLocator : baseLocator;
  };
  return {
    value: (path) => owner(path).value(path),
    key: (path) => owner(path).key(path),
  };
}
