import { isAbsolute, join, resolve } from 'node:path';

/**
 * Where the cache lives: `--cache-dir`, else `SPX_CACHE_DIR`, else
 * `.spx/cache` in the project. A relative path is taken from the directory
 * spx was started in, as a user typing it would expect.
 */
export function resolveCacheDir(flag: string | undefined, env: NodeJS.ProcessEnv, stateDir: string): string {
  const chosen = flag ?? (env.SPX_CACHE_DIR || undefined);
  if (chosen === undefined) return join(stateDir, 'cache');
  return isAbsolute(chosen) ? chosen : resolve(chosen);
}
