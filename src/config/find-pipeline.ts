import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../util/errors.js';
import { displayPath } from '../util/note.js';

export const PIPELINE_FILE = 'spx.yaml';

/**
 * The spx.yaml that governs `start`: the first found walking up from it, as
 * git, npm and turbo find their own files, so that spx works from any
 * subdirectory of the project. The walk stops at the repository root (the
 * directory holding .git) or the filesystem root: a pipeline in a directory
 * above the repository is some other project's.
 */
export function findPipelineFile(start: string): string {
  const from = path.resolve(start);
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, PIPELINE_FILE);
    if (statSync(candidate, { throwIfNoEntry: false })?.isFile()) return candidate;
    const atRepositoryRoot = existsSync(path.join(dir, '.git'));
    if (atRepositoryRoot || path.dirname(dir) === dir) throw notFound(from, dir, atRepositoryRoot);
  }
}

function notFound(from: string, stoppedAt: string, atRepositoryRoot: boolean): UserError {
  const searched = from === stoppedAt ? displayPath(from) : `${displayPath(from)} or above it, up to ${displayPath(stoppedAt)}`;
  const boundary = atRepositoryRoot ? ' (the repository root)' : '';
  return new UserError(`no ${PIPELINE_FILE} in ${searched}${boundary}: run "spx init" to create one, or name one with -f FILE`);
}
