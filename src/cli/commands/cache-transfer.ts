import { ArtifactError } from '../../cache/artifact.js';
import { openCache } from '../../cache/open-cache.js';
import { RemoteCacheError } from '../../cache/remote-cache.js';
import { resolveRemote } from '../../cache/remote-config.js';
import { TieredCache } from '../../cache/tiered-cache.js';
import { readRecorded } from '../../state/build-state.js';
import { UserError } from '../../util/errors.js';
import type { Fingerprint } from '../../util/hash.js';
import { Limiter } from '../../util/limiter.js';
import { EXIT } from '../exit-codes.js';
import { openProject } from '../project.js';
import { counted } from '../../util/plural.js';

export interface TransferOptions {
  directory: string | undefined;
  file: string | undefined;
  cacheDir: string;
  /** `--remote-cache URL`. */
  remoteUrl: string | undefined;
}

/** Requests at once: enough to hide a distant server's latency, few enough to be polite. */
const CONCURRENCY = 8;

const LINES = {
  push: { uploaded: '↑ %s uploaded', present: '= %s already on the remote', 'not-local': '- %s not in the local cache (build it first)' },
  pull: { pulled: '↓ %s downloaded', local: '= %s already in the local cache', absent: '- %s not on the remote' },
} as const;

/**
 * `spx cache push|pull [NODE...]`: moves the entries spx.lock references
 * (the project's current outputs; with the journal of an interrupted build,
 * as prune reads it) between the local cache and the remote.
 * Unlike a build, an explicit transfer that cannot reach the remote fails.
 */
export async function transfer(direction: 'push' | 'pull', nodes: string[], options: TransferOptions): Promise<number> {
  const { pipeline, stateDir } = await openProject({ directory: options.directory, file: options.file });
  const remote = resolveRemote(pipeline.config.cache.remote, { url: options.remoteUrl, readOnly: undefined }, process.env);
  if (remote.kind === 'none') {
    throw new UserError('no remote cache is configured: set cache.remote.url in spx.yaml or SPX_REMOTE_CACHE_URL, or pass --remote-cache URL');
  }
  if (remote.kind === 'off') throw new UserError(remote.problem);
  if (direction === 'push' && remote.settings.readOnly) {
    throw new UserError(`remote cache ${remote.settings.url} is read-only here (cache.remote.readOnly or SPX_REMOTE_CACHE_READ_ONLY): nothing pushed`);
  }
  const cache = await openCache(options.cacheDir, remote, { warn: (message) => console.error(`spx: warning: ${message}`) });
  if (!(cache instanceof TieredCache)) throw new Error('a configured remote opens a tiered cache');

  const recorded = readRecorded(pipeline.root, stateDir);
  for (const node of nodes) {
    if (!recorded[node]) throw new UserError(`node "${node}" is not in spx.lock (it has never been built)`);
  }
  const chosen = (nodes.length > 0 ? [...new Set(nodes)] : Object.keys(recorded).sort()).filter((node) => pipeline.config.nodes[node]);

  const counts = new Map<string, number>();
  let refused = 0;
  let failure: string | undefined;
  const requests = new Limiter(CONCURRENCY);
  const transferOne = async (node: string): Promise<void> => {
    // After a failure of the remote itself, the nodes not yet started are not tried.
    if (failure !== undefined) return;
    const fingerprint = recorded[node]!.fingerprint as Fingerprint;
    try {
      const outcome =
        direction === 'push' ? await cache.push(fingerprint, pipeline.config.nodes[node]!.outputs) : await cache.pull(fingerprint, pipeline.config.nodes[node]!.outputs);
      counts.set(outcome, (counts.get(outcome) ?? 0) + 1);
      console.log((LINES[direction] as Record<string, string>)[outcome]!.replace('%s', node));
    } catch (error) {
      if (error instanceof ArtifactError) {
        refused++;
        console.log(`! ${node}: remote cache entry refused: ${error.message}`);
      } else if (error instanceof RemoteCacheError) {
        failure ??= error.message;
      } else {
        failure ??= `${node}: ${(error as Error).message}`;
      }
    }
  };
  await Promise.all(chosen.map((node) => requests.run(() => transferOne(node))));

  const count = (outcome: string): number => counts.get(outcome) ?? 0;
  if (direction === 'push') {
    console.log(
      `pushed ${count('uploaded')} of ${counted(chosen.length, 'entry', 'entries')} to ${cache.remote.location}: ${count('present')} already there, ${count('not-local')} not in the local cache`,
    );
  } else {
    const refusedNote = refused > 0 ? `, ${refused} refused` : '';
    console.log(
      `pulled ${count('pulled')} of ${counted(chosen.length, 'entry', 'entries')} from ${cache.remote.location}: ${count('local')} already local, ${count('absent')} not on the remote${refusedNote}`,
    );
  }
  if (failure !== undefined) {
    console.error(`spx: error: ${failure}`);
    return EXIT.failed;
  }
  return refused > 0 ? EXIT.failed : EXIT.ok;
}
