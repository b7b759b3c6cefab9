import type { WatchKey } from './watch-keys.js';

/** What the watch does next. */
export type WatchTurn =
  | { kind: 'build'; changed: string[]; reload: boolean; key: 'run-models' | undefined }
  | { kind: 'quit' }
  | { kind: 'stop' };

/**
 * A burst of saves (an editor writing a file and its backup, a `git
 * checkout` of 200 files) is one build: changes are collected until none
 * has come for `quietMs`, or for at most `maxWaitMs` under a steady stream
 * of them. Changes that come during a build wait here for the one build
 * after it.
 */
export class ChangeQueue {
  private readonly changed = new Set<string>();
  private reload = false;
  private key: WatchKey | undefined;
  private firstAt = 0;
  private ready = false;
  private timer: NodeJS.Timeout | undefined;
  private wake: () => void = () => {};

  constructor(private readonly timing: { quietMs: number; maxWaitMs: number }) {}

  add(path: string, reload: boolean): void {
    if (this.changed.size === 0) this.firstAt = Date.now();
    this.changed.add(path);
    this.reload ||= reload;
    clearTimeout(this.timer);
    const waited = Date.now() - this.firstAt;
    this.timer = setTimeout(() => {
      this.ready = true;
      this.wake();
    }, Math.max(0, Math.min(this.timing.quietMs, this.timing.maxWaitMs - waited)));
  }

  press(key: WatchKey): void {
    // `q` wins over a pending `m`; a second `m` is the same request.
    if (this.key !== 'quit') this.key = key;
    this.wake();
  }

  /** Resolves with the next thing to do; at once when it is already there. */
  async next(signal: AbortSignal): Promise<WatchTurn> {
    for (;;) {
      if (signal.aborted) return { kind: 'stop' };
      if (this.key === 'quit') return { kind: 'quit' };
      // A key press builds at once, with whatever changes are pending.
      if (this.ready || this.key !== undefined) return this.take();
      await new Promise<void>((resolve) => {
        const done = (): void => {
          signal.removeEventListener('abort', done);
          resolve();
        };
        this.wake = done;
        signal.addEventListener('abort', done, { once: true });
      });
      this.wake = () => {};
    }
  }

  /** Forgets the pending changes `own` says are the last build's own writes; nothing left, nothing to build. */
  discard(own: (path: string) => boolean): void {
    for (const path of this.changed) if (own(path)) this.changed.delete(path);
    if (this.changed.size > 0 || this.reload) return;
    clearTimeout(this.timer);
    this.ready = false;
  }

  /** Stops the pending timer (the watch is over). */
  dispose(): void {
    clearTimeout(this.timer);
  }

  private take(): WatchTurn {
    const turn: WatchTurn = { kind: 'build', changed: [...this.changed].sort(), reload: this.reload, key: this.key === 'run-models' ? 'run-models' : undefined };
    clearTimeout(this.timer);
    this.changed.clear();
    this.reload = false;
    this.key = undefined;
    this.ready = false;
    return turn;
  }
}
