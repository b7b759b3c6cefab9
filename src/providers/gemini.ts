import {
  GoogleGenerativeAI,
  GoogleGenerativeAIFetchError,
  GoogleGenerativeAIResponseError,
  type GenerateContentResponse,
} from '@google/generative-ai';
import type { GeminiProviderConfig } from '../config/types.js';
import { ProviderError, type Answer, type CallOptions, type Provider } from './provider.js';
import { captureRetryAfter, parseRetryAfter, parseRetryInfo, retryBaseMs, retryDelayMs, sleep } from './retry.js';

type Failure = { retry: true; error: ProviderError; serverAskedMs: number | undefined } | { retry: false; error: ProviderError };

/** HTTP statuses worth another attempt: rate limits and server trouble. */
const RETRYABLE_STATUSES = new Set([429, 500, 502, 503, 504]);

/**
 * Gemini through Google's SDK: the answer is streamed (progress shows it
 * arriving), retried on rate limits and server errors, and returned only
 * when complete. The key is read from the environment for each call and
 * scrubbed from every message.
 */
export class GeminiProvider implements Provider {
  constructor(private readonly config: GeminiProviderConfig & { name: string }) {}

  async generate(prompt: string, options: CallOptions): Promise<Answer> {
    if (options.agent) {
      throw new ProviderError(
        `provider "${this.config.name}" (gemini API) answers in text and cannot edit files: an execute node needs an agent CLI (type claude-code, or a command such as [gemini, -p, --yolo])`,
      );
    }
    const apiKey = options.env[this.config.apiKeyEnv];
    if (!apiKey) {
      throw new ProviderError(
        `provider "${this.config.name}" needs a Gemini API key: set the environment variable ${this.config.apiKeyEnv} (or rehearse offline with --provider rehearse)`,
      );
    }
    const baseMs = retryBaseMs(options.env);
    for (let attempt = 0; ; attempt++) {
      const outcome = await this.attempt(prompt, apiKey, options).then(
        (answer) => ({ answer }),
        (error: unknown) => ({ failure: this.classify(error, apiKey, options.signal) }),
      );
      if ('answer' in outcome) return outcome.answer;
      const { failure } = outcome;
      if (!failure.retry || attempt >= this.config.retries) {
        if (failure.retry && this.config.retries > 0) {
          throw new ProviderError(`${failure.error.message} (gave up after ${attempt + 1} attempts)`);
        }
        throw failure.error;
      }
      const wait = retryDelayMs(attempt, baseMs, failure.serverAskedMs);
      options.onWarning(`${failure.error.message}; retrying in ${(wait / 1000).toFixed(1)}s (${attempt + 1}/${this.config.retries})`);
      await sleep(wait, options.signal);
      if (options.signal.aborted) throw new ProviderError('interrupted');
    }
  }

  private async attempt(prompt: string, apiKey: string, options: CallOptions): Promise<Answer> {
    const model = new GoogleGenerativeAI(apiKey).getGenerativeModel(
      {
        model: this.config.model,
        generationConfig: {
          ...(this.config.temperature === undefined ? {} : { temperature: this.config.temperature }),
          ...(this.config.topP === undefined ? {} : { topP: this.config.topP }),
          ...(this.config.topK === undefined ? {} : { topK: this.config.topK }),
          ...(this.config.maxOutputTokens === undefined ? {} : { maxOutputTokens: this.config.maxOutputTokens }),
        },
      },
      this.config.baseUrl ? { baseUrl: this.config.baseUrl } : {},
    );
    // Our own timeout, not the SDK's: the SDK's timer is never cleared and
    // would keep spx alive for the whole timeout after the answer came.
    const signal = AbortSignal.any([options.signal, AbortSignal.timeout(this.config.timeout * 1000)]);
    return captureRetryAfter(async (record) => {
      try {
        const result = await model.generateContentStream({ contents: [{ role: 'user', parts: [{ text: prompt }] }] }, { signal });
        // The aggregate rejects too when the stream fails; it is awaited below.
        result.response.catch(() => undefined);
        let received = 0;
        for await (const chunk of result.stream) {
          received += chunk.text().length;
          options.onProgress(`${this.config.model}: ${received} characters received`);
        }
        return answerOf(await result.response);
      } catch (error) {
        if (error instanceof GoogleGenerativeAIFetchError && record.retryAfter) {
          Object.assign(error, { retryAfter: record.retryAfter });
        }
        if (signal.aborted && !options.signal.aborted) {
          throw new TimeoutError(`provider "${this.config.name}": no complete answer from ${this.config.model} within ${this.config.timeout}s (the provider's timeout)`);
        }
        throw error;
      }
    });
  }

  private classify(error: unknown, apiKey: string, signal: AbortSignal): Failure {
    const name = `provider "${this.config.name}"`;
    const scrub = (text: string): string => text.split(apiKey).join('***');
    if (signal.aborted) return { retry: false, error: new ProviderError('interrupted') };
    if (error instanceof TimeoutError) return { retry: true, error: new ProviderError(error.message), serverAskedMs: undefined };
    if (error instanceof GoogleGenerativeAIFetchError) {
      const status = error.status ?? 0;
      // The SDK prefixes "[GoogleGenerativeAI Error]: Error fetching from URL: ";
      // what the user needs is the status and Google's message after it.
      const detail = scrub(error.message.replace(/^(\[GoogleGenerativeAI Error\]: )?Error fetching from \S+: /, ''));
      if (status === 400 && /api key/i.test(error.message)) {
        return { retry: false, error: new ProviderError(`${name}: Gemini rejected the API key in ${this.config.apiKeyEnv}: ${detail}`) };
      }
      if (status === 401 || status === 403) {
        return { retry: false, error: new ProviderError(`${name}: Gemini refused the API key in ${this.config.apiKeyEnv} (${status}): ${detail}`) };
      }
      if (RETRYABLE_STATUSES.has(status)) {
        const serverAskedMs = parseRetryAfter((error as { retryAfter?: string }).retryAfter) ?? parseRetryInfo(error.errorDetails);
        return { retry: true, error: new ProviderError(`${name}: Gemini answered ${detail}`), serverAskedMs };
      }
      return { retry: false, error: new ProviderError(`${name}: Gemini answered ${detail}`) };
    }
    if (error instanceof GoogleGenerativeAIResponseError) {
      return { retry: false, error: new ProviderError(`${name}: Gemini gave no usable answer: ${scrub(error.message)} (a safety or recitation block; rephrase the input)`) };
    }
    const message = scrub(error instanceof Error ? error.message : String(error));
    // Anything else from the SDK is a network failure (fetch failed, reset).
    return { retry: true, error: new ProviderError(`${name}: could not reach Gemini: ${message}`), serverAskedMs: undefined };
  }
}

class TimeoutError extends Error {}

function answerOf(response: GenerateContentResponse & { text(): string }): Answer {
  const text = response.text();
  const usage = response.usageMetadata;
  return {
    text,
    usage: usage
      ? { promptTokens: usage.promptTokenCount, outputTokens: usage.candidatesTokenCount, totalTokens: usage.totalTokenCount, cachedInputTokens: usage.cachedContentTokenCount }
      : {},
  };
}
