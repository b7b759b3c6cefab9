import { GoogleGenerativeAI } from '@google/generative-ai';
import type { GeminiProviderConfig } from '../config/types.js';
import { ProviderError } from './provider.js';

/**
 * Gemini's own count of a prompt's tokens (`countTokens`, free of charge),
 * for `--exact` forecasts: the offline count uses another model's
 * tokenizer. The key is read from the environment and never appears in a
 * message.
 */
export async function countGeminiTokens(
  config: GeminiProviderConfig & { name: string },
  prompt: string,
  env: NodeJS.ProcessEnv,
  signal: AbortSignal,
): Promise<number> {
  const apiKey = env[config.apiKeyEnv];
  if (!apiKey) throw new ProviderError(`--exact: provider "${config.name}" needs a Gemini API key in ${config.apiKeyEnv} to count tokens (or forecast without --exact)`);
  const model = new GoogleGenerativeAI(apiKey).getGenerativeModel({ model: config.model }, config.baseUrl ? { baseUrl: config.baseUrl } : {});
  try {
    const counted = await model.countTokens({ contents: [{ role: 'user', parts: [{ text: prompt }] }] }, { signal: AbortSignal.any([signal, AbortSignal.timeout(config.timeout * 1000)]) });
    return counted.totalTokens;
  } catch (error) {
    const message = (error instanceof Error ? error.message : String(error)).split(apiKey).join('***');
    throw new ProviderError(`--exact: provider "${config.name}" could not count tokens: ${message}`);
  }
}
