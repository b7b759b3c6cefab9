import { closeSync, writeSync } from 'node:fs';
import type { Renderer } from '../render/renderer.js';
import type { BuildLock } from '../state/build-lock.js';
import { killEveryGroup } from '../util/child-process.js';
import { STOP_SIGNALS, type StopSignal } from './exit-codes.js';

const STOP_SIGNAL_NAMES = Object.keys(STOP_SIGNALS) as StopSignal[];

/** A build's answer to Ctrl-C, SIGTERM and SIGHUP, from the lock taken until `dispose`. */
export interface StopSignals {
  /** Aborted at the first signal. */
  signal: AbortSignal;
  /** The first signal received, if any. */
  readonly stoppedBy: StopSignal | undefined;
  dispose(): void;
}

/**
 * The first signal stops the build: the scheduler stops the running
 * programs' process groups, records nothing more, and the renderer ends
 * with the summary. A second one means "now".
 */
export function listenForStopSignals(renderer: Renderer, lock: BuildLock | undefined): StopSignals {
  const controller = new AbortController();
  let stoppedBy: StopSignal | undefined;
  const onSignal = (signal: StopSignal): void => {
    if (stoppedBy !== undefined) stopAtOnce(signal, stoppedBy, renderer, lock);
    stoppedBy = signal;
    controller.abort(signal);
  };
  for (const signal of STOP_SIGNAL_NAMES) process.on(signal, onSignal);
  return {
    signal: controller.signal,
    get stoppedBy() {
      return stoppedBy;
    },
    dispose: () => {
      for (const signal of STOP_SIGNAL_NAMES) process.off(signal, onSignal);
    },
  };
}

/**
 * Nothing is waited for, not even a program's grace period, and the
 * renderer is left behind. What finished is already in the journal.
 */
function stopAtOnce(signal: StopSignal, first: StopSignal, renderer: Renderer, lock: BuildLock | undefined): never {
  killEveryGroup();
  renderer.abandon();
  try {
    // To the descriptor: a task list holds back what is written to the stream.
    writeSync(2, `\nspx: stopped at once (${signal} again): running commands killed; finished nodes are recorded\n`);
  } catch {
    // No terminal left to tell (SIGHUP).
  }
  lock?.release();
  if (first === 'SIGHUP' || signal === 'SIGHUP') letGoOfTheTerminal();
  process.exit(STOP_SIGNALS[first]);
}

/**
 * After a hang-up, the terminal spx started on is gone. Node 20 restores a
 * terminal's settings on exit and aborts with an assertion when it cannot
 * (nodejs/node#51519, fixed in later Node); it skips descriptors the program
 * closed.
 */
export function letGoOfTheTerminal(): void {
  for (const [fd, stream] of [[0, process.stdin], [1, process.stdout], [2, process.stderr]] as const) {
    if (!stream.isTTY) continue;
    try {
      closeSync(fd);
    } catch {
      // Already closed.
    }
  }
}
