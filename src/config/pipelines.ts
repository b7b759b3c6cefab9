import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The ready pipelines that ship with spx (`pipelines/NAME.yaml`): what
 * `spx init --pipeline NAME` copies and what `extends: NAME` starts from.
 * Source and compiled layouts both sit two levels below the package root.
 */
export const SHIPPED_PIPELINES_DIR = fileURLToPath(new URL('../../pipelines/', import.meta.url));

/** The names of the pipelines in `dir`, sorted. */
export function pipelineNames(dir: string = SHIPPED_PIPELINES_DIR): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  return entries
    .filter((entry) => entry.endsWith('.yaml'))
    .map((entry) => entry.slice(0, -'.yaml'.length))
    .sort();
}

/** The file of pipeline NAME in `dir`, or undefined when there is none. */
export function pipelineFile(name: string, dir: string = SHIPPED_PIPELINES_DIR): string | undefined {
  return pipelineNames(dir).includes(name) ? path.join(dir, `${name}.yaml`) : undefined;
}
