import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the fake server does with one request, in the order requests arrive. */
export type GeminiBehaviour =
  /** Streams the text in a few chunks, with usage metadata on the last. */
  | { answer: string; promptTokens?: number; outputTokens?: number; delayMs?: number }
  /** An HTTP error with Google's error body, optionally with Retry-After. */
  | { status: number; message?: string; retryAfter?: string; details?: unknown[] }
  /** A safety block: a candidate with finishReason SAFETY. */
  | { blocked: true };

export interface RecordedRequest {
  path: string;
  apiKey: string | undefined;
  body: { contents: { parts: { text: string }[] }[]; generationConfig?: Record<string, unknown>; generateContentRequest?: { contents: { parts: { text: string }[] }[] } };
}

/**
 * A loopback HTTP server that speaks enough of the Gemini API
 * (`:streamGenerateContent?alt=sse`, `:generateContent`) for the real
 * `@google/generative-ai` SDK, pointed at it with `baseUrl`. Mocking at the
 * network edge only: everything above the socket is the real code.
 */
export class FakeGemini {
  readonly requests: RecordedRequest[] = [];
  private readonly queue: GeminiBehaviour[] = [];
  /** Used when the queue is empty. */
  fallback: GeminiBehaviour = { answer: 'fake answer' };
  /** What `:countTokens` answers; default: a quarter of the prompt's characters. */
  countTokensAnswer: number | undefined;
  /** Requests whose client hung up before the whole answer was sent. */
  abandoned = 0;
  private server: Server | undefined;

  get url(): string {
    const address = this.server!.address() as AddressInfo;
    return `http://127.0.0.1:${address.port}`;
  }

  enqueue(...behaviours: GeminiBehaviour[]): void {
    this.queue.push(...behaviours);
  }

  async start(): Promise<void> {
    this.server = createServer((request, response) => void this.handle(request, response));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** How many model calls reached the server (countTokens requests included). */
  get calls(): number {
    return this.requests.length;
  }

  /** The prompts of the generate calls, in order (countTokens requests left out). */
  get prompts(): string[] {
    return this.requests.filter((r) => !r.path.includes(':countTokens')).map((r) => r.body.contents[0]!.parts[0]!.text);
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    response.once('close', () => {
      if (!response.writableFinished) this.abandoned++;
    });
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    this.requests.push({
      path: request.url ?? '',
      apiKey: request.headers['x-goog-api-key'] as string | undefined,
      body: text ? JSON.parse(text) : { contents: [] },
    });
    if ((request.url ?? '').includes(':countTokens')) {
      // countTokens is free and answers from no queue: a rough count, as Gemini's own would be.
      const { body } = this.requests.at(-1)!;
      const prompt = (body.contents ?? body.generateContentRequest?.contents ?? []).flatMap((content) => content.parts.map((part) => part.text)).join('');
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ totalTokens: this.countTokensAnswer ?? Math.ceil(prompt.length / 4) }));
      return;
    }
    const behaviour = this.queue.shift() ?? this.fallback;
    const streaming = (request.url ?? '').includes(':streamGenerateContent');

    if ('status' in behaviour) {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (behaviour.retryAfter) headers['retry-after'] = behaviour.retryAfter;
      response.writeHead(behaviour.status, headers);
      response.end(JSON.stringify({ error: { code: behaviour.status, message: behaviour.message ?? 'fake error', status: 'ERROR', ...(behaviour.details ? { details: behaviour.details } : {}) } }));
      return;
    }
    if ('blocked' in behaviour) {
      const body = { candidates: [{ finishReason: 'SAFETY', index: 0, safetyRatings: [{ category: 'HARM_CATEGORY_DANGEROUS_CONTENT', probability: 'HIGH' }] }] };
      this.reply(response, streaming, [body]);
      return;
    }
    if (behaviour.delayMs) await new Promise((resolve) => setTimeout(resolve, behaviour.delayMs));
    if (response.destroyed) return;
    const pieces = splitInThree(behaviour.answer);
    const promptTokens = behaviour.promptTokens ?? 100;
    const outputTokens = behaviour.outputTokens ?? 20;
    const bodies = pieces.map((piece, i) => ({
      candidates: [{ content: { role: 'model', parts: [{ text: piece }] }, index: 0, ...(i === pieces.length - 1 ? { finishReason: 'STOP' } : {}) }],
      ...(i === pieces.length - 1
        ? { usageMetadata: { promptTokenCount: promptTokens, candidatesTokenCount: outputTokens, totalTokenCount: promptTokens + outputTokens } }
        : {}),
    }));
    this.reply(response, streaming, bodies);
  }

  private reply(response: ServerResponse, streaming: boolean, bodies: unknown[]): void {
    if (streaming) {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      for (const body of bodies) response.write(`data: ${JSON.stringify(body)}\r\n\r\n`);
      response.end();
    } else {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify(bodies[bodies.length - 1]));
    }
  }
}

function splitInThree(text: string): string[] {
  if (text.length < 3) return [text];
  const third = Math.ceil(text.length / 3);
  return [text.slice(0, third), text.slice(third, 2 * third), text.slice(2 * third)];
}

/**
 * A started loopback server and what spx needs to reach it: a fresh random
 * key (so a test can check it leaks nowhere) and fast retries. Tests queue
 * exactly the answers they expect; a call no test expected gets a 500 and,
 * with retries: 0, fails the build.
 */
export async function startFakeGemini(): Promise<{ fake: FakeGemini; env: { env: NodeJS.ProcessEnv } }> {
  const fake = new FakeGemini();
  await fake.start();
  fake.fallback = { status: 500, message: 'the test queued too few answers' };
  return { fake, env: { env: { GEMINI_API_KEY: `test-key-${randomBytes(8).toString('hex')}`, SPX_RETRY_BASE_MS: '10' } } };
}
