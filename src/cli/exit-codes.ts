/** Exit codes scripts can rely on; documented in the README. */
export const EXIT = {
  ok: 0,
  /** A node failed (or the build could not start, e.g. the project is locked). */
  failed: 1,
  /** Bad command line or pipeline file. */
  usage: 2,
  /** The build stopped at a review gate: approve the output (spx approve NODE) and build again. */
  review: 3,
  /** Ctrl-C or SIGTERM: finished nodes are recorded, nothing else. */
  interrupted: 130,
} as const;
