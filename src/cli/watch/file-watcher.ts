import type { FSWatcher } from 'chokidar';
import type { WatchScope } from './watch-scope.js';

/**
 * Watches what `scope` names, and hears of each change that matters, as a
 * project path (or an absolute one outside the project) and whether it
 * means reloading the pipeline.
 *
 * chokidar rather than Node's fs.watch: on Linux fs.watch is not recursive
 * before Node 20.13 and, even then, misses a new subdirectory's files and
 * reports an editor's atomic save (write aside, rename over) as the file's
 * removal. chokidar watches new directories as they appear and folds an
 * unlink followed by an add into one change.
 */
export async function watchScope(scope: WatchScope, onChange: (path: string, reload: boolean) => void): Promise<FSWatcher> {
  const { watch } = await import('chokidar');
  const watcher = watch(scope.roots(), {
    ignoreInitial: true,
    // Read by every event and directory scan: the scope given now, for this watcher's life.
    ignored: (path: string) => scope.ignores(path),
  });
  watcher.on('all', (_event, path) => {
    const reload = scope.reloads(path);
    if (reload || scope.matters(path)) onChange(scope.relative(path) ?? path, reload);
  });
  await new Promise<void>((resolve, reject) => {
    watcher.once('ready', () => resolve());
    watcher.once('error', reject);
  });
  return watcher;
}
