import type { BuildEvent } from '../scheduler/events.js';
import { redact } from '../util/secrets.js';
import type { Renderer } from './renderer.js';

/**
 * Takes the values of secrets out of every event before another renderer
 * sees it: a node's command or a provider may print a key it was given
 * (`curl -v`, a debugging `env`), and what a renderer shows goes to
 * terminals, CI logs and `--json` consumers alike. Redacted whole, before
 * any renderer shortens a line.
 */
export class RedactingRenderer implements Renderer {
  constructor(
    private readonly inner: Renderer,
    private readonly secrets: readonly string[],
  ) {}

  handle(event: BuildEvent): void {
    this.inner.handle(this.secrets.length === 0 ? event : (redactValue(event, this.secrets) as BuildEvent));
  }

  flush(): Promise<void> {
    return this.inner.flush();
  }

  abandon(): void {
    this.inner.abandon();
  }
}

/** Events are plain data: strings, numbers, arrays and records of them. */
function redactValue(value: unknown, secrets: readonly string[]): unknown {
  if (typeof value === 'string') return redact(value, secrets);
  if (Array.isArray(value)) return value.map((item) => redactValue(item, secrets));
  if (typeof value === 'object' && value !== null) {
    const copy: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
    for (const [key, item] of Object.entries(value)) copy[key] = redactValue(item, secrets);
    return copy;
  }
  return value;
}
