import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pipelineFile, pipelineNames } from '../config/pipelines.js';
import { backUpOutput, INIT_BACKUPS } from '../state/backups.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { UserError } from '../util/errors.js';
import { ignoreStateDir, type GitignoreChange } from './gitignore.js';
import { USER_SPEC_TEMPLATE } from './user-spec-template.js';
import { schemaReference, type SchemaReference } from './schema-reference.js';

export const DEFAULT_PIPELINE = 'spec-plan-execute';

/** What the user describes, for the spec node to read. */
const USER_SPEC = 'USER-SPEC.md';

export interface InitOptions {
  /** The pipeline file to write (spx.yaml); the project root is its directory. */
  file: string;
  pipeline: string;
  /** Overwrite spx.yaml and USER-SPEC.md. */
  force: boolean;
}

export interface InitResult {
  /** Paths written, relative to the project root. */
  written: string[];
  gitignore: GitignoreChange;
  /** Where the edited USER-SPEC.md that --force replaced was kept, relative to the project root. */
  userSpecBackup?: string;
  /** Where spx.yaml's first line points editors for the schema. */
  schema: SchemaReference;
}

/**
 * `spx init`: the project's pipeline file, copied from a ready pipeline with
 * its schema line pointed at the schema editors can find, a USER-SPEC.md
 * template, and `.spx/` in .gitignore. Checks everything before writing
 * anything, so that a refusal leaves the directory as it was.
 */
export function initProject(options: InitOptions): InitResult {
  const source = pipelineFile(options.pipeline);
  if (source === undefined) {
    throw new UserError(`unknown pipeline "${options.pipeline}"; spx ships: ${pipelineNames().join(', ')}`);
  }
  const root = path.dirname(options.file);
  const text = readFileSync(source, 'utf8');
  // A pipeline of features has one USER-SPEC.md per feature (spx new NAME), none at the root.
  const userSpec = /^\s+foreach:/m.test(text) ? undefined : path.join(root, USER_SPEC);
  if (!options.force) {
    for (const target of [options.file, ...(userSpec ? [userSpec] : [])]) {
      if (existsSync(target)) {
        throw new UserError(`${path.relative(process.cwd(), target)} already exists: spx init will not overwrite it (spx init --force replaces it)`);
      }
    }
  }

  mkdirSync(root, { recursive: true });
  const schema = schemaReference(root);
  const template = readFileSync(USER_SPEC_TEMPLATE, 'utf8');
  // The user's description of the change is their work: it never goes without a copy.
  const userSpecBackup = userSpec && edited(userSpec, template) ? backUpOutput(root, path.join(root, '.spx'), INIT_BACKUPS, USER_SPEC) : undefined;
  writeFileAtomic(options.file, pipelineText(text, options.pipeline, schema.path));
  if (userSpec) writeFileAtomic(userSpec, template);
  return {
    written: [path.basename(options.file), ...(userSpec ? [USER_SPEC] : [])],
    gitignore: ignoreStateDir(root),
    ...(userSpecBackup ? { userSpecBackup } : {}),
    schema,
  };
}

/** Whether a file exists and holds something other than the template. */
function edited(file: string, template: string): boolean {
  return existsSync(file) && readFileSync(file, 'utf8') !== template;
}

/** The ready pipeline, its first line pointing at `schema`, and a word on where it came from. */
function pipelineText(text: string, name: string, schema: string): string {
  const body = text.replace(/^# yaml-language-server:.*\n/, '');
  return [
    `# yaml-language-server: $schema=${schema}`,
    `# Made by spx init from spx's "${name}" pipeline: edit it to fit the project; spx validate checks it.`,
    body,
  ].join('\n');
}
