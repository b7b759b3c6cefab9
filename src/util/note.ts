import { relative, sep } from 'node:path';

/**
 * One line on stderr saying that a file of spx's own state was damaged and
 * is being rebuilt. Printed directly rather than sent as a build event:
 * state is loaded before a renderer starts, and by commands that have none.
 */
export function noteRebuilt(file: string, problem: string): void {
  process.stderr.write(`spx: note: ${displayPath(file)} ${problem}; rebuilding it\n`);
}

/**
 * Relative to the working directory, as a user would type it (`../spx.yaml`
 * from a subdirectory, as git says it); absolute when the two share no
 * directory but the filesystem root, where `../../../tmp/x` says less than `/tmp/x`.
 */
export function displayPath(file: string, cwd: string = process.cwd()): string {
  const relativePath = relative(cwd, file);
  if (relativePath === '') return file;
  const climbs = relativePath.split(sep).filter((part) => part === '..').length;
  return climbs >= cwd.split(sep).filter(Boolean).length ? file : relativePath;
}
