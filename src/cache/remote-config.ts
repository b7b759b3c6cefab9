import type { RemoteCacheConfig } from '../config/types.js';
import { UserError } from '../util/errors.js';

/** The variable the token is read from when spx.yaml names none. */
export const DEFAULT_TOKEN_ENV = 'SPX_REMOTE_CACHE_TOKEN';
/** Seconds one request may take, as Turborepo's own default. */
export const DEFAULT_TIMEOUT_SECONDS = 30;

/**
 * The remote cache as this run uses it, spx.yaml's `cache.remote` overridden
 * by flags and environment. The token and the signing key live only here, in
 * memory: nothing spx writes or prints takes them from this object.
 */
export interface RemoteSettings {
  /** The server's base URL, without a trailing slash. */
  url: string;
  /** Team id (`team_…`, sent as teamId) or slug (sent as slug). */
  team: string | undefined;
  token: string | undefined;
  /** Where the token was looked for, for messages that must not show it. */
  tokenVariable: string;
  readOnly: boolean;
  /** HMAC key of artifact tags; undefined when signing is off. */
  signatureKey: string | undefined;
  timeoutMs: number;
}

export interface RemoteOverrides {
  /** `--remote-cache URL`. */
  url: string | undefined;
  /** `--remote-read-only`. */
  readOnly: boolean | undefined;
}

export type RemoteChoice =
  /** No remote cache configured: a local-only build, said nowhere. */
  | { kind: 'none' }
  | { kind: 'remote'; settings: RemoteSettings }
  /** Configured, but unsafe to use as it is: a local-only build with this warning. */
  | { kind: 'off'; problem: string };

/**
 * Precedence, highest first: the flag, `SPX_REMOTE_CACHE_*`, spx.yaml. CI
 * sets the URL and token in its environment; a pull request job adds
 * `SPX_REMOTE_CACHE_READ_ONLY=1` (or `--remote-read-only`).
 */
export function resolveRemote(config: RemoteCacheConfig | undefined, overrides: RemoteOverrides, env: NodeJS.ProcessEnv): RemoteChoice {
  const rawUrl = overrides.url ?? (nonEmpty(env.SPX_REMOTE_CACHE_URL) || config?.url);
  if (rawUrl === undefined) return { kind: 'none' };
  const source = overrides.url !== undefined ? '--remote-cache' : nonEmpty(env.SPX_REMOTE_CACHE_URL) ? 'SPX_REMOTE_CACHE_URL' : 'cache.remote.url';
  const url = parseUrl(rawUrl, source);
  const tokenEnv = config?.tokenEnv ?? DEFAULT_TOKEN_ENV;
  // The spx variable wins over the one spx.yaml names, like every other override.
  const tokenVariable = nonEmpty(env[DEFAULT_TOKEN_ENV]) ? DEFAULT_TOKEN_ENV : tokenEnv;
  const readOnly = overrides.readOnly || (parseFlag(env.SPX_REMOTE_CACHE_READ_ONLY, 'SPX_REMOTE_CACHE_READ_ONLY') ?? config?.readOnly ?? false);
  let signatureKey: string | undefined;
  if (config?.signatureKeyEnv !== undefined) {
    signatureKey = nonEmpty(env[config.signatureKeyEnv]);
    // Without the key, downloads could not be verified: using them anyway
    // would let a poisoned cache in, exactly what signing is set up to stop.
    if (signatureKey === undefined) {
      return {
        kind: 'off',
        problem: `remote cache ${url} is off: cache.remote.signatureKeyEnv names ${config.signatureKeyEnv}, which is not set, so its artifacts could not be verified`,
      };
    }
  }
  return {
    kind: 'remote',
    settings: {
      url,
      team: nonEmpty(env.SPX_REMOTE_CACHE_TEAM) ?? config?.team,
      token: nonEmpty(env[tokenVariable]),
      tokenVariable,
      readOnly,
      signatureKey,
      timeoutMs: (config?.timeout ?? DEFAULT_TIMEOUT_SECONDS) * 1000,
    },
  };
}

function parseUrl(raw: string, source: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UserError(`${source}: "${raw}" is not a URL; expected one like https://cache.example.com`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UserError(`${source}: the remote cache is spoken to over http or https, not ${url.protocol}`);
  }
  // A URL is printed in messages and may be written to spx.yaml: a secret
  // in it would leak. The token has its own variable.
  if (url.username !== '' || url.password !== '') {
    throw new UserError(`${source}: put no credentials in the URL; set the token in ${DEFAULT_TOKEN_ENV} instead`);
  }
  if (url.search !== '' || url.hash !== '') throw new UserError(`${source}: the URL takes no query or fragment; set the team with cache.remote.team or SPX_REMOTE_CACHE_TEAM`);
  return url.href.replace(/\/+$/, '');
}

function parseFlag(value: string | undefined, name: string): boolean | undefined {
  if (value === undefined || value === '') return undefined;
  if (/^(1|true|yes|on)$/i.test(value)) return true;
  if (/^(0|false|no|off)$/i.test(value)) return false;
  throw new UserError(`${name} expects 1 or 0 (true or false), got "${value}"`);
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

/** The one line a build prints when the remote is off for it: the cause, and that the build goes on. */
export function remoteOffWarning(cause: string): string {
  return `${cause}; building with the local cache only`;
}
