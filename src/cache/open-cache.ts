import { LocalCache } from './local-cache.js';
import { remoteOffWarning, type RemoteChoice } from './remote-config.js';
import type { TieredCache } from './tiered-cache.js';

/**
 * The cache a command works with: the local directory, with the remote
 * behind it when one is configured. The remote's code (HTTP client,
 * archives, signing) is imported only then: most builds have no remote.
 */
export async function openCache(
  directory: string,
  remote: RemoteChoice,
  options: { signal?: AbortSignal; warn: (message: string) => void },
): Promise<LocalCache | TieredCache> {
  const local = new LocalCache(directory);
  if (remote.kind === 'off') options.warn(remoteOffWarning(remote.problem));
  if (remote.kind !== 'remote') return local;
  const [{ RemoteCache }, { TieredCache }] = await Promise.all([import('./remote-cache.js'), import('./tiered-cache.js')]);
  const { settings } = remote;
  return new TieredCache(local, new RemoteCache(settings, options.signal), {
    readOnly: settings.readOnly,
    signatureKey: settings.signatureKey,
    warn: options.warn,
  });
}
