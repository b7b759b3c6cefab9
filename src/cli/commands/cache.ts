import { dirname, join, resolve } from 'node:path';
import { LocalCache } from '../../cache/local-cache.js';
import { resolveCacheDir } from '../../cache/location.js';
import { readLastBuildStats } from '../last-build.js';
import { pruneCache, takeInventory, verifyCache } from '../../cache/maintenance.js';
import type { RemoteStats } from '../../cache/tiered-cache.js';
import { readRecorded } from '../../state/build-state.js';
import { didYouMean } from '../../config/suggest.js';
import { UserError } from '../../util/errors.js';
import { formatBytes } from '../../util/format-bytes.js';
import { parseCommandArgs } from '../args.js';
import { EXIT } from '../exit-codes.js';
import { projectFile } from '../project.js';
import { counted } from '../../util/plural.js';

export const help = `Usage: spx cache <stats|prune|verify|path|push|pull> [options] [NODE...]

The content-addressed cache of node outputs, which lets a stale node whose
fingerprint was seen before be restored instead of rerun.

Subcommands:
  stats              entries, blobs and size; hits and misses of the last build
  prune              remove entries by age and/or total size (least recently
                     used first); never what spx.lock references
  verify             rehash every blob; remove corrupt blobs and the entries
                     that need them, and entries a build would refuse
                     (malformed, naming .git/ or spx's own files, special modes)
  path               print the cache directory
  push [NODE...]     upload to the remote cache the entries spx.lock references
                     (of the named nodes, or all) that it does not have yet
  pull [NODE...]     download from the remote cache into the local one the
                     entries spx.lock references, checked as a build checks
                     them; outputs are not restored (spx build does that)

Options:
      --cache-dir D  the cache directory (default: $SPX_CACHE_DIR, else .spx/cache)
      --max-age T    prune: entries unused for longer than T (e.g. 30d, 12h, 90m)
      --max-size S   prune: shrink the cache to at most S (e.g. 500M, 2G)
      --json         stats and verify: print JSON
      --remote-cache URL
                     push, pull: the remote cache (default: $SPX_REMOTE_CACHE_URL,
                     else cache.remote.url in spx.yaml)
  -f, --file FILE    pipeline file (default: spx.yaml here or in the nearest
                     directory above, up to the repository root)
  -C, --directory DIR
                     run as if started in DIR
  -h, --help         show this help

Only files in the cache's own layout and naming (blobs/ab/<sha256>,
entries/ab/<fingerprint>.json) are read or removed.

Exit codes: 0 done (verify: nothing corrupt), 1 verify found corrupt blobs or
bad entries, or a push or pull failed, 2 usage error.`;

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('cache', args, {
    'cache-dir': { type: 'string' },
    'max-age': { type: 'string' },
    'max-size': { type: 'string' },
    json: { type: 'boolean' },
    'remote-cache': { type: 'string' },
  });
  // `spx cache` alone asks what it can do, as `git remote` or `npm cache` do.
  if (values.help || positionals.length === 0) {
    console.log(help);
    return EXIT.ok;
  }
  const root = cacheOwner(values.directory, values.file);
  const stateDir = join(root, '.spx');
  const cache = new LocalCache(resolveCacheDir(values['cache-dir'], process.env, stateDir));
  const [subcommand, ...rest] = positionals;
  if (subcommand === 'push' || subcommand === 'pull') {
    const { transfer } = await import('./cache-transfer.js');
    return transfer(subcommand, rest, { directory: values.directory, file: values.file, cacheDir: cache.directory, remoteUrl: values['remote-cache'] });
  }
  if (rest.length > 0) throw new UserError(`unexpected argument "${rest[0]}" (see: spx cache --help)`);

  switch (subcommand) {
    case 'path':
      console.log(cache.directory);
      return EXIT.ok;
    case 'stats': {
      const inventory = takeInventory(cache);
      const last = readLastBuildStats(stateDir);
      const stats = {
        directory: cache.directory,
        entries: inventory.entries.length,
        blobs: inventory.blobs.size,
        bytes: inventory.bytes,
        lastBuild: last
          ? { hits: last.hits.length, misses: last.misses.length, savedSeconds: last.savedSeconds, ...(last.remote ? { remote: last.remote } : {}) }
          : null,
      };
      if (values.json) {
        console.log(JSON.stringify(stats, null, 2));
        return EXIT.ok;
      }
      console.log(`cache:      ${stats.directory}`);
      console.log(`entries:    ${stats.entries}`);
      console.log(`blobs:      ${stats.blobs}`);
      console.log(`size:       ${formatBytes(stats.bytes)}`);
      console.log(
        last
          ? `last build: ${counted(last.hits.length, 'hit')}, ${counted(last.misses.length, 'miss', 'misses')}, ${last.savedSeconds.toFixed(2)}s saved`
          : 'last build: none recorded',
      );
      if (last?.remote) console.log(`remote:     ${formatRemote(last.remote)}`);
      return EXIT.ok;
    }
    case 'verify': {
      const report = verifyCache(cache);
      if (values.json) console.log(JSON.stringify(report, null, 2));
      else {
        console.log(`checked ${counted(report.blobsChecked, 'blob')}: ${report.corruptBlobs.length} corrupt; ${counted(report.badEntries.length, 'bad entry', 'bad entries')}`);
        for (const hash of report.corruptBlobs) console.log(`  removed corrupt blob ${hash}`);
        for (const fingerprint of report.brokenEntries) console.log(`  removed entry ${fingerprint} (a blob it needs was missing or corrupt)`);
        for (const { fingerprint, problem } of report.badEntries) console.log(`  removed bad entry ${fingerprint}: ${problem}`);
      }
      return report.corruptBlobs.length > 0 || report.badEntries.length > 0 ? EXIT.failed : EXIT.ok;
    }
    case 'prune': {
      const maxAgeMs = values['max-age'] === undefined ? undefined : parseDuration(values['max-age']);
      const maxBytes = values['max-size'] === undefined ? undefined : parseSize(values['max-size']);
      if (maxAgeMs === undefined && maxBytes === undefined) throw new UserError('spx cache prune needs --max-age, --max-size or both');
      const recorded = Object.values(readRecorded(root, stateDir));
      const keep = new Set(recorded.map((entry) => entry.fingerprint as string));
      const keepBlobs = new Set<string>(recorded.flatMap((entry) => Object.values(entry.approvedOutputs ?? {})));
      const report = pruneCache(cache, { maxAgeMs, maxBytes, keep, keepBlobs });
      console.log(`removed ${counted(report.removedEntries, 'entry', 'entries')} and ${counted(report.removedBlobs, 'blob')}, freed ${formatBytes(report.freedBytes)}`);
      return EXIT.ok;
    }
    default:
      throw new UserError(`unknown cache subcommand "${subcommand}"${didYouMean(subcommand!, SUBCOMMANDS)}; expected ${SUBCOMMANDS.join(', ')}`);
  }
}

const SUBCOMMANDS = ['stats', 'prune', 'verify', 'path', 'push', 'pull'];

/**
 * The project whose .spx/cache is meant: the one spx.yaml is found in, else
 * the directory itself (a cache named by --cache-dir or $SPX_CACHE_DIR needs
 * no pipeline to be inspected).
 */
function cacheOwner(directory: string | undefined, file: string | undefined): string {
  try {
    return dirname(projectFile({ directory, file }));
  } catch (error) {
    if (!(error instanceof UserError) || file !== undefined) throw error;
    return resolve(directory ?? '.');
  }
}

/** One line: what the remote did in the last build, and whether it was given up. */
function formatRemote(remote: RemoteStats): string {
  const counts = `${counted(remote.hits, 'hit')}, ${counted(remote.misses, 'miss', 'misses')}, ${counted(remote.uploads, 'upload')}, ${counted(remote.errors, 'error')}`;
  const notes = [remote.readOnly ? 'read-only' : undefined, remote.unavailable === undefined ? undefined : `given up: ${remote.unavailable}`].filter(Boolean);
  return `${counts} (${remote.location}${notes.length > 0 ? `; ${notes.join('; ')}` : ''})`;
}

const DURATION_UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const SIZE_UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)([smhdw])$/.exec(text.trim());
  if (!match) throw new UserError(`--max-age expects a number and a unit (s, m, h, d, w), like 30d; got "${text}"`);
  return Number(match[1]) * DURATION_UNITS[match[2]!]!;
}

function parseSize(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?$/i.exec(text.trim());
  if (!match) throw new UserError(`--max-size expects a size like 500M or 2G; got "${text}"`);
  return Math.floor(Number(match[1]) * SIZE_UNITS[match[2]!.toLowerCase()]!);
}
