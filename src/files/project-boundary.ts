import { lstatSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { realLocation, type Location } from './containment.js';
import { displayName } from './file-name.js';
import { failedToOpen, readIfRegular } from './regular-file.js';

/**
 * Tells whether a project path really lies inside the project: a committed
 * symlink (`notes.md -> ~/.ssh/config`), or a symlinked directory on the
 * way, can lead anywhere, and a cloned repository is data, not a choice the
 * user made. Symlinks that stay inside are ordinary files.
 *
 * Cheap enough for every selected file on every build: one lstat per file
 * and per directory (remembered), a realpath only where a symlink is.
 */
export class ProjectBoundary {
  private realRoot: string | undefined;
  private readonly directories = new Map<string, Location>([['', 'inside']]);

  constructor(private readonly root: string) {}

  /** Where `file` (relative to the root, or absolute) really is; a dangling link is missing. */
  locate(file: string): Location {
    if (!CLEAN.test(file)) return this.locateReal(path.resolve(this.root, file));
    const slash = file.lastIndexOf('/');
    const directory = slash < 0 ? 'inside' : this.locateDirectory(file.slice(0, slash));
    return directory === 'inside' ? this.locateEntry(file) : directory;
  }

  private locateDirectory(directory: string): Location {
    let location = this.directories.get(directory);
    if (location === undefined) {
      const slash = directory.lastIndexOf('/');
      location = this.locateDirectory(slash < 0 ? '' : directory.slice(0, slash));
      if (location === 'inside') location = this.locateEntry(directory);
      this.directories.set(directory, location);
    }
    return location;
  }

  /** An entry of a directory that is inside: inside unless it is a symlink leading out. */
  private locateEntry(relative: string): Location {
    const absolute = `${this.root}/${relative}`;
    const stats = lstatSync(absolute, { throwIfNoEntry: false });
    if (!stats) return 'missing';
    return stats.isSymbolicLink() ? this.locateReal(absolute) : 'inside';
  }

  private locateReal(absolute: string): Location {
    this.realRoot ??= realpathSync.native(this.root);
    return realLocation(this.realRoot, absolute);
  }
}

/** A relative path with no `.`, `..` or empty segment: its directories are its prefixes. */
const CLEAN = /^(?!\/)(?!.*(?:^|\/)\.{1,2}(?:\/|$))(?!.*\/\/)(?!.*\/$)./s;

/** A file spx will not read as data, and why (for a message: "input notes.md <why>"). */
export class RefusedFile extends Error {
  constructor(
    readonly file: string,
    readonly why: string,
  ) {
    super(`${displayName(file)} ${why}`);
    this.name = 'RefusedFile';
  }
}

/**
 * Reads a file the project names, to be sent elsewhere (a model's prompt).
 * Refuses a path named inside the project whose real path is outside, and
 * anything but a regular file: a FIFO is opened non-blocking and refused, so
 * it cannot hang the build. A path spx.yaml itself names outside the project
 * (absolute, or `../`) is the user's explicit choice and is read.
 */
export function readProjectFile(root: string, file: string): Buffer {
  const named = path.normalize(file);
  const namedInside = !path.isAbsolute(named) && named !== '..' && !named.startsWith(`..${path.sep}`);
  if (namedInside && new ProjectBoundary(root).locate(file) === 'outside') {
    throw new RefusedFile(file, 'leads outside the project (a symlink): spx does not send files outside the project anywhere');
  }
  let read: Buffer | 'not a regular file';
  try {
    read = readIfRegular(path.resolve(root, file), 'follow');
  } catch (error) {
    if (!failedToOpen(error)) throw error;
    throw new RefusedFile(file, `cannot be read: ${error.message}`);
  }
  if (read === 'not a regular file') throw new RefusedFile(file, 'is not a regular file');
  return read;
}
