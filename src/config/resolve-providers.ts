import { nameTable } from '../util/name-table.js';
import type { ProviderConfig } from './types.js';

/** Providers as the schema admits them: optional settings may be absent. */
export type RawProvider =
  | ({ type: 'gemini'; model: string } & Partial<Omit<Extract<ProviderConfig, { type: 'gemini' }>, 'type' | 'model'>>)
  | ({ type: 'command'; command: string[] } & Partial<Omit<Extract<ProviderConfig, { type: 'command' }>, 'type' | 'command'>>)
  | ({ type: 'claude-code' } & Partial<Omit<Extract<ProviderConfig, { type: 'claude-code' }>, 'type'>>)
  | { type: 'echo' };

/** Seconds a model call may take before it is abandoned (and retried). */
const DEFAULT_MODEL_TIMEOUT = 600;
/** An agent works for a long time; a plain model call should not. */
const DEFAULT_AGENT_TIMEOUT = 3600;

/** Fills every provider's defaults, so nodes and fingerprints see complete settings. */
export function resolveProviders(raw: Record<string, RawProvider> | undefined): Record<string, ProviderConfig> {
  return nameTable(Object.entries(raw ?? {}).map(([name, provider]) => [name, resolveProvider(provider)]));
}

function resolveProvider(raw: RawProvider): ProviderConfig {
  switch (raw.type) {
    case 'gemini':
      return { apiKeyEnv: 'GEMINI_API_KEY', timeout: DEFAULT_MODEL_TIMEOUT, retries: 5, ...raw };
    case 'command':
      return { promptVia: 'stdin', timeout: DEFAULT_MODEL_TIMEOUT, ...raw };
    case 'claude-code':
      return { command: ['claude'], timeout: DEFAULT_AGENT_TIMEOUT, ...raw };
    case 'echo':
      return { type: 'echo' };
  }
}

/**
 * Always available, so that `--provider rehearse` rehearses any pipeline
 * offline. `echo`, its type's name and its first name, stays an alias: spx
 * 0.1's next steps and scripts said `--provider echo`.
 */
export const BUILTIN_PROVIDERS: Readonly<Record<string, ProviderConfig>> = nameTable([
  ['rehearse', { type: 'echo' }],
  ['echo', { type: 'echo' }],
]);
