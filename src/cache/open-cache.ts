import { LocalCache } from './local-cache.js';
import { RemoteCache } from './remote-cache.js';
import type { RemoteChoice } from './remote-config.js';
import { remoteOffWarning, TieredCache } from './tiered-cache.js';

/** The cache a command works with: the local directory, with the remote behind it when one is configured. */
export function openCache(
  directory: string,
  remote: RemoteChoice,
  options: { signal?: AbortSignal; warn: (message: string) => void },
): LocalCache | TieredCache {
  const local = new LocalCache(directory);
  if (remote.kind === 'off') options.warn(remoteOffWarning(remote.problem));
  if (remote.kind !== 'remote') return local;
  const { settings } = remote;
  return new TieredCache(local, new RemoteCache(settings, options.signal), {
    readOnly: settings.readOnly,
    signatureKey: settings.signatureKey,
    warn: options.warn,
  });
}
