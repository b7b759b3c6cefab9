import type { ResolvedProvider } from '../config/types.js';
import type { Provider } from './provider.js';

/** Providers are imported when a node calls one: a no-op build loads no SDK. */
export async function createProvider(provider: ResolvedProvider): Promise<Provider> {
  switch (provider.type) {
    case 'gemini':
      return new (await import('./gemini.js')).GeminiProvider(provider);
    case 'command':
      return new (await import('./command.js')).CommandProvider(provider);
    case 'claude-code':
      return new (await import('./claude-code.js')).ClaudeCodeProvider(provider);
    case 'echo':
      return new (await import('./echo.js')).EchoProvider();
  }
}
