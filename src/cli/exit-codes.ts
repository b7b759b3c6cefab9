/** Exit codes scripts can rely on; documented in docs/cli.md. */
export const EXIT = {
  ok: 0,
  /** A node failed (or the build could not start, e.g. the project is locked). */
  failed: 1,
  /** Bad command line or pipeline file. */
  usage: 2,
  /** The build stopped at a review gate: approve the output (spx approve NODE) and build again. */
  review: 3,
  /** Ctrl-C (SIGINT): finished nodes are recorded, nothing else. */
  interrupted: 130,
  /** SIGTERM, as interrupted. */
  terminated: 143,
  /** SIGHUP (the terminal went away), as interrupted. */
  hungUp: 129,
} as const;

/** The signals a build stops for, and its exit code for each: 128 + the signal's number, as shells report. */
export const STOP_SIGNALS = { SIGINT: EXIT.interrupted, SIGTERM: EXIT.terminated, SIGHUP: EXIT.hungUp } as const;
export type StopSignal = keyof typeof STOP_SIGNALS;
