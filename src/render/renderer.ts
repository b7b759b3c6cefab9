import type { BuildEvent } from '../scheduler/events.js';

/** Turns build events into output for one kind of audience. */
export interface Renderer {
  handle(event: BuildEvent): void;
  /** Resolves once everything has been written (a task list may lag behind the events). */
  close(): Promise<void>;
  /**
   * Leaves the terminal usable at once, for an exit that cannot wait for
   * `close` (a second Ctrl-C): a live display stops and shows the cursor again.
   */
  abandon(): void;
}

export interface RenderOptions {
  /** Print, for every node that runs or would run, why. */
  explain: boolean;
  /** Print fresh nodes too. */
  verbose: boolean;
  out: NodeJS.WritableStream;
}
