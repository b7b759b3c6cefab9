import { readdirSync, statSync, type Dirent } from 'node:fs';
import { join } from 'node:path';
import { decodeName, displayName } from './file-name.js';
import type { Witness } from './witness.js';

/** Directories never searched by a glob: spx's own state and git's. */
const NEVER_SEARCHED = new Set(['.git', '.spx']);

/**
 * How much older than the listing a directory's mtime and ctime must be for
 * the listing to be trusted later on. File-system timestamps come from a
 * coarse clock (one kernel tick, up to 10 ms, behind the one Date.now()
 * reads): an entry added in the same tick as the listing could leave both
 * unchanged. 50 ms is several ticks; a directory changed that recently is
 * simply listed again.
 */
const RACY_MS = 50;

/** A file a walk found but no string path can name: its name (or a directory's on the way) is not UTF-8. */
export interface Unaddressable {
  /** The name as matched: invalid bytes read as U+FFFD. */
  lossy: string;
  /** The name as printed, invalid bytes escaped. */
  shown: string;
}

/** A directory (root-relative) and its mtimeMs, ctimeMs and inode before it was listed. */
export type StampedDirectory = [path: string, mtimeMs: number, ctimeMs: number, ino: number];

/** Every file below a directory, and every directory walked to find them, as root-relative posix paths. */
export interface Tree {
  files: string[];
  dirs: StampedDirectory[];
  unaddressable: Unaddressable[];
}

/** One directory's own entries, and what the directory looked like when they were read. */
interface Listing {
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
  /** Date.now() just before the directory was stat-ed and read. */
  listedAt: number;
  /** The pass (see DirectoryListings.pass) in which the listing was last known current. */
  checkedIn: number;
  files: string[];
  subdirs: string[];
  unaddressable: Unaddressable[];
}

/**
 * The project's directories as listed during one build: each is read at
 * most once however many globs walk it, and once a node has run (and may
 * have written anywhere) a listing is kept as long as its directory's
 * mtime, ctime and inode are what they were, so that 1,000 nodes globbing
 * in 100 directories cost 100 listings and some stats, not 1,000 walks.
 */
export class DirectoryListings {
  private readonly listings = new Map<string, Listing | undefined>();
  private readonly trees = new Map<string, { tree: Tree; used: Listing[]; checkedIn: number }>();
  /** Bumped whenever something may have written files: every listing must be checked again before use. */
  private pass = 0;

  constructor(
    private readonly root: string,
    private readonly witness?: Witness,
  ) {}

  /** Every file below `base`; a base that does not exist walks nothing. */
  tree(base: string): Tree {
    const known = this.trees.get(base);
    if (known?.checkedIn === this.pass) return known.tree;
    const tree: Tree = { files: [], dirs: [], unaddressable: [] };
    const used: Listing[] = [];
    const visit = (directory: string): void => {
      const listing = this.listing(directory);
      if (listing === undefined) return;
      used.push(listing);
      tree.dirs.push([directory, listing.mtimeMs, listing.ctimeMs, listing.ino]);
      tree.files.push(...listing.files);
      tree.unaddressable.push(...listing.unaddressable);
      for (const subdir of listing.subdirs) visit(subdir);
    };
    visit(base);
    // The same listings (the very objects: none was read again) make the same tree.
    if (known && known.used.length === used.length && known.used.every((listing, index) => listing === used[index])) {
      known.checkedIn = this.pass;
      return known.tree;
    }
    this.trees.set(base, { tree, used, checkedIn: this.pass });
    return tree;
  }

  /** Something may have written files: check each listing against its directory before using it again. */
  invalidate(): void {
    this.pass++;
  }

  private listing(directory: string): Listing | undefined {
    const known = this.listings.get(directory);
    if (known !== undefined && known.checkedIn === this.pass) return known;
    const listedAt = Date.now();
    const absolute = directory === '' ? this.root : join(this.root, directory);
    const stats = statSync(absolute, { throwIfNoEntry: false });
    this.witness?.sawDirectory(directory, stats?.isDirectory() ? [stats.mtimeMs, stats.ctimeMs, stats.ino] : undefined);
    if (known !== undefined && stats !== undefined && this.unchanged(known, stats)) {
      known.checkedIn = this.pass;
      return known;
    }
    const listing = stats?.isDirectory() ? this.read(directory, absolute, listedAt, stats) : undefined;
    this.listings.set(directory, listing);
    return listing;
  }

  private unchanged(known: Listing, now: { mtimeMs: number; ctimeMs: number; ino: number }): boolean {
    const racy = known.mtimeMs >= known.listedAt - RACY_MS || known.ctimeMs >= known.listedAt - RACY_MS;
    return !racy && now.mtimeMs === known.mtimeMs && now.ctimeMs === known.ctimeMs && now.ino === known.ino;
  }

  private read(directory: string, absolute: string, listedAt: number, stats: { mtimeMs: number; ctimeMs: number; ino: number }): Listing | undefined {
    const listing: Listing = { mtimeMs: stats.mtimeMs, ctimeMs: stats.ctimeMs, ino: stats.ino, listedAt, checkedIn: this.pass, files: [], subdirs: [], unaddressable: [] };
    let entries: Dirent[];
    try {
      entries = readdirSync(absolute, { withFileTypes: true });
    } catch {
      return undefined;
    }
    // U+FFFD in a name is rare; only then is the directory listed again as
    // bytes, to tell a real U+FFFD from bytes that are not UTF-8.
    if (entries.some((entry) => entry.name.includes('\uFFFD'))) return this.readBytes(directory, absolute, listing);
    for (const entry of entries) add(entry, entry.name, directory, listing);
    return listing;
  }

  private readBytes(directory: string, absolute: string, listing: Listing): Listing | undefined {
    let entries: Dirent<Buffer>[];
    try {
      entries = readdirSync(absolute, { withFileTypes: true, encoding: 'buffer' });
    } catch {
      return undefined;
    }
    const prefix = directory === '' ? '' : `${directory}/`;
    for (const entry of entries) {
      const name = decodeName(entry.name);
      if (name !== undefined) {
        add(entry, name, directory, listing);
      } else if (entry.isFile() || entry.isSymbolicLink() || entry.isDirectory()) {
        // Nothing below such a directory can be named either: a glob matching it names the directory.
        const shown = displayName(Buffer.concat([Buffer.from(prefix), entry.name]));
        listing.unaddressable.push({ lossy: prefix + entry.name.toString('utf8'), shown: entry.isDirectory() ? `${shown} (a directory)` : shown });
      }
    }
    return listing;
  }
}

function add(entry: Dirent<string | Buffer>, name: string, directory: string, listing: Listing): void {
  const relative = directory === '' ? name : `${directory}/${name}`;
  if (entry.isDirectory()) {
    if (!NEVER_SEARCHED.has(name)) listing.subdirs.push(relative);
  } else if (entry.isFile() || entry.isSymbolicLink()) {
    listing.files.push(relative);
  }
}
