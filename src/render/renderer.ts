import type { BuildEvent } from '../scheduler/events.js';

/**
 * Turns build events into output for one kind of audience. One renderer
 * serves a whole `spx build`: the lines before the first build (waiting for
 * the lock), each build (again after an approval at the prompt), and the
 * lines after the last.
 */
export interface Renderer {
  handle(event: BuildEvent): void;
  /**
   * Resolves once everything handed over so far has been written (a task
   * list lags behind the events); called at the end of each build.
   */
  flush(): Promise<void>;
  /**
   * Leaves the terminal usable at once, for an exit that cannot wait for
   * `flush` (a second Ctrl-C): a live display stops and shows the cursor again.
   */
  abandon(): void;
}

export interface RenderOptions {
  /** Print, for every node that runs or would run, why. */
  explain: boolean;
  /** Print fresh nodes too. */
  verbose: boolean;
  out: NodeJS.WritableStream;
  /** For what a person must act on (another build holds the lock, a review awaits). */
  err: NodeJS.WritableStream;
}
