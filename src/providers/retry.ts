import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The first retry waits about this long, each next one twice as long.
 * SPX_RETRY_BASE_MS shortens it (tests, impatient users).
 */
export function retryBaseMs(env: NodeJS.ProcessEnv): number {
  const configured = Number(env.SPX_RETRY_BASE_MS);
  return Number.isFinite(configured) && configured >= 0 ? configured : 1000;
}

/** No single wait longer than this, whatever the server asks. */
const MAX_WAIT_MS = 5 * 60 * 1000;

/**
 * How long to wait before retry number `attempt` (0 for the first retry):
 * what the server asked for when it said (Retry-After, or Gemini's
 * RetryInfo), else exponential backoff with jitter, so that many clients
 * throttled at once do not come back at once.
 */
export function retryDelayMs(attempt: number, baseMs: number, serverAskedMs: number | undefined, random: () => number = Math.random): number {
  if (serverAskedMs !== undefined) return Math.min(serverAskedMs, MAX_WAIT_MS);
  const exponential = baseMs * 2 ** attempt;
  return Math.min(exponential * (0.5 + random() / 2), MAX_WAIT_MS);
}

/** `Retry-After: 30` or `Retry-After: <HTTP date>`, in milliseconds. */
export function parseRetryAfter(header: string | null | undefined, now: number = Date.now()): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Gemini's `{"@type": "…RetryInfo", "retryDelay": "19s"}` error detail, in milliseconds. */
export function parseRetryInfo(details: unknown): number | undefined {
  if (!Array.isArray(details)) return undefined;
  for (const detail of details as { '@type'?: string; retryDelay?: string }[]) {
    if (!detail?.['@type']?.endsWith('RetryInfo') || typeof detail.retryDelay !== 'string') continue;
    const seconds = Number(detail.retryDelay.replace(/s$/, ''));
    if (Number.isFinite(seconds)) return seconds * 1000;
  }
  return undefined;
}

interface ResponseRecord {
  retryAfter?: string;
}

const currentCall = new AsyncLocalStorage<ResponseRecord>();
let fetchWrapped = false;

/**
 * Runs `call` while remembering the Retry-After header of a failed HTTP
 * response it receives. The Gemini SDK turns a failed response into an
 * error without its headers, so the global fetch it calls is wrapped, once;
 * AsyncLocalStorage keeps concurrent calls' records apart.
 */
export function captureRetryAfter<T>(call: (record: ResponseRecord) => Promise<T>): Promise<T> {
  if (!fetchWrapped) {
    const original = globalThis.fetch;
    globalThis.fetch = async (...args: Parameters<typeof fetch>): Promise<Response> => {
      const response = await original(...args);
      const record = currentCall.getStore();
      if (record && !response.ok) record.retryAfter = response.headers.get('retry-after') ?? undefined;
      return response;
    };
    fetchWrapped = true;
  }
  const record: ResponseRecord = {};
  return currentCall.run(record, () => call(record));
}

export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
