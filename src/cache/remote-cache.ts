import { redact, truncate } from '../util/secrets.js';
import type { RemoteSettings } from './remote-config.js';

/**
 * The remote cannot be used right now: unreachable, too slow, refusing the
 * token, failing, or answering something the API does not. The message
 * names the cause and never holds the token.
 */
export class RemoteCacheError extends Error {
  override name = 'RemoteCacheError';
}

/** The build was interrupted while a request was under way. */
export class RemoteCacheAborted extends Error {
  override name = 'RemoteCacheAborted';
}

export interface FetchedArtifact {
  bytes: Buffer;
  /** `x-artifact-tag`, when the server stored one. */
  tag: string | undefined;
}

/**
 * A client of the Turborepo Remote Cache API (`/v8/artifacts/:hash`), which
 * turborepo-remote-cache, Vercel and other servers implement over S3, GCS or
 * Azure storage. It moves bytes; what they mean is artifact.ts's business,
 * whether to trust them signing.ts's.
 */
export class RemoteCache {
  constructor(
    private readonly settings: RemoteSettings,
    /** The build's: Ctrl-C ends requests under way. */
    private readonly signal?: AbortSignal,
  ) {}

  /** The URL, for messages (it holds no credentials: remote-config.ts refuses them). */
  get location(): string {
    return this.settings.url;
  }

  /** The artifact stored under `hash`, or undefined when there is none. */
  async get(hash: string): Promise<FetchedArtifact | undefined> {
    return this.request('GET', hash, {}, async (response) => {
      if (response.status === 404) return undefined;
      await this.expectOk(response);
      // An HTML page with status 200 is a proxy's or a login page, not an artifact.
      if ((response.headers.get('content-type') ?? '').startsWith('text/html')) {
        throw new RemoteCacheError(`remote cache ${this.location} answered with an HTML page instead of an artifact (is the URL that of a remote cache?)`);
      }
      const bytes = Buffer.from(await response.arrayBuffer());
      return { bytes, tag: response.headers.get('x-artifact-tag') ?? undefined };
    });
  }

  async exists(hash: string): Promise<boolean> {
    return this.request('HEAD', hash, {}, async (response) => {
      if (response.status === 404) return false;
      await this.expectOk(response);
      return true;
    });
  }

  async put(hash: string, bytes: Buffer, options: { tag: string | undefined; durationMs: number }): Promise<void> {
    const headers: Record<string, string> = {
      'content-type': 'application/octet-stream',
      // What the run cost, which Turborepo's API records to show time saved.
      'x-artifact-duration': String(Math.round(options.durationMs)),
    };
    if (options.tag !== undefined) headers['x-artifact-tag'] = options.tag;
    await this.request('PUT', hash, { headers, body: bytes }, async (response) => {
      await this.expectOk(response);
      await response.arrayBuffer();
    });
  }

  private async request<T>(
    method: string,
    hash: string,
    init: { headers?: Record<string, string>; body?: Buffer },
    handle: (response: Response) => Promise<T>,
  ): Promise<T> {
    const { token, timeoutMs } = this.settings;
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = this.signal ? AbortSignal.any([timeout, this.signal]) : timeout;
    try {
      const response = await fetch(this.artifactUrl(hash), {
        method,
        headers: { ...init.headers, ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
        ...(init.body === undefined ? {} : { body: init.body }),
        signal,
      });
      // The body is read under the same deadline: a server may answer the
      // headers and then stall.
      return await handle(response);
    } catch (error) {
      if (error instanceof RemoteCacheError) throw new RemoteCacheError(this.redact(error.message));
      if (this.signal?.aborted) throw new RemoteCacheAborted('interrupted');
      if (timeout.aborted) throw new RemoteCacheError(`remote cache ${this.location} did not answer within ${timeoutMs / 1000}s`);
      throw new RemoteCacheError(this.redact(`remote cache ${this.location} is unreachable (${networkCause(error)})`));
    }
  }

  private artifactUrl(hash: string): string {
    const url = new URL(`v8/artifacts/${encodeURIComponent(hash)}`, this.settings.url + '/');
    const { team } = this.settings;
    // Turborepo's convention: ids start with team_, anything else is a slug.
    if (team !== undefined) url.searchParams.set(team.startsWith('team_') ? 'teamId' : 'slug', team);
    return url.href;
  }

  private async expectOk(response: Response): Promise<void> {
    if (response.ok) return;
    // The server's words may echo the token: redacted before they are cut short.
    const said = truncate(this.redact(await serverMessage(response)), 120);
    const status = `${response.status}${response.statusText ? ` ${response.statusText}` : ''}${said ? `: ${said}` : ''}`;
    const { team, token, tokenVariable } = this.settings;
    if (response.status === 401 || response.status === 403 || (response.status === 400 && token === undefined)) {
      const check = token === undefined ? `${tokenVariable} is not set` : `check the token in ${tokenVariable}`;
      throw new RemoteCacheError(`remote cache ${this.location} refused access (${status}); ${check}${team === undefined ? ' and the team (cache.remote.team or SPX_REMOTE_CACHE_TEAM)' : ''}`);
    }
    if (response.status >= 500) throw new RemoteCacheError(`remote cache ${this.location} failed (${status})`);
    if (response.status === 400) {
      const hint = team === undefined ? '; it may need a team: set cache.remote.team or SPX_REMOTE_CACHE_TEAM' : '';
      throw new RemoteCacheError(`remote cache ${this.location} rejected the request (${status})${hint}`);
    }
    throw new RemoteCacheError(`remote cache ${this.location} answered ${status}, not an answer of the Remote Cache API (is the URL right?)`);
  }

  /** Belt and braces: no message leaves this class with the token in it, whatever a server echoes. */
  private redact(message: string): string {
    return redact(message, [this.settings.token]);
  }
}

/** What a failed fetch ran into: the innermost cause ("connect ECONNREFUSED 127.0.0.1:80", "other side closed"), which says more than "fetch failed". */
function networkCause(error: unknown): string {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error && current.cause instanceof Error; depth++) current = current.cause;
  // Connecting to every address of a name fails as one AggregateError with no message of its own.
  if (current instanceof AggregateError && current.errors[0] instanceof Error) current = current.errors[0];
  if (!(current instanceof Error)) return String(current);
  return current.message || ((current as NodeJS.ErrnoException).code ?? current.name);
}

/** What an error answer says: the API's JSON `message`, else the text, on one line. */
async function serverMessage(response: Response): Promise<string> {
  let text: string;
  try {
    text = await response.text();
  } catch {
    return '';
  }
  try {
    const message = (JSON.parse(text) as { message?: unknown }).message;
    if (typeof message === 'string') text = message;
  } catch {
    // Not JSON: the text itself.
  }
  text = text.replace(/\s+/g, ' ').trim();
  // An HTML error page (a proxy's) says nothing a line can hold.
  if (text.startsWith('<')) return '';
  return text;
}
