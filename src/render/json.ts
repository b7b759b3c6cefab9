import type { BuildEvent } from '../scheduler/events.js';
import type { Renderer } from './renderer.js';

/**
 * `--json`: one JSON object per line per event, for scripts and editors:
 * the events as they are, reasons as data (render/describe.ts words them
 * for people).
 */
export class JsonRenderer implements Renderer {
  constructor(private readonly out: NodeJS.WritableStream) {}

  handle(event: BuildEvent): void {
    // A node's place in the -j queue changes nothing that a script acts on.
    if (event.type === 'queued' || event.type === 'working') return;
    this.out.write(JSON.stringify(event) + '\n');
  }

  async flush(): Promise<void> {}

  abandon(): void {}
}
