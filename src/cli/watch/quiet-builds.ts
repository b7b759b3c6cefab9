import type { Renderer } from '../../render/renderer.js';
import type { BuildEvent } from '../../scheduler/events.js';

/** Where a node ended in a build, as far as the user is told. */
type Standing = 'fresh' | 'stale' | 'ran' | 'failed' | 'skipped' | 'review';

/** Events that are news whenever they come: something ran, was restored, or went wrong. */
const ALWAYS_NEWS: ReadonlySet<BuildEvent['type']> = new Set([
  'start',
  'restored',
  'failure',
  'backup',
  'warning',
  'approved',
  'interrupted',
  'cache-warning',
  'cache-only-misses',
  'review-prompt-interrupted',
]);

/**
 * Shows a watch's build only when it has news, so that the watch's own
 * writes and saves that change nothing cost no screen: the events are held
 * until one is news (then shown, the held ones first, and the rest as they
 * come), or until the build ends with every node it took standing where
 * the build before left it (then dropped).
 */
export class QuietBuilds {
  /** Where each node stood after the last build that evaluated it (a watch's build may take only part of the graph). */
  private readonly last = new Map<string, Standing>();

  constructor(private readonly renderer: Renderer) {}

  /** A renderer for one build; `announce` is called once, just before its first event is shown. */
  forBuild(announce: () => void, options: { show: boolean }): Renderer & { readonly shown: boolean } {
    const held: BuildEvent[] = [];
    const standing = new Map<string, Standing>();
    const target = this.renderer;
    let shown = false;
    const show = (): void => {
      shown = true;
      announce();
      for (const event of held.splice(0)) target.handle(event);
    };
    return {
      get shown() {
        return shown;
      },
      handle: (event: BuildEvent): void => {
        note(standing, event);
        if (event.type === 'build-end') {
          if (!shown && !sameStanding(standing, this.last)) show();
          for (const [node, now] of standing) this.last.set(node, now);
        }
        if (shown) return target.handle(event);
        held.push(event);
        if (options.show || ALWAYS_NEWS.has(event.type)) show();
      },
      flush: async (): Promise<void> => {
        if (shown) await target.flush();
        held.length = 0;
      },
      abandon: (): void => target.abandon(),
    };
  }
}

function note(standing: Map<string, Standing>, event: BuildEvent): void {
  switch (event.type) {
    case 'build-start':
      // After an approval at the prompt the build runs again: where nodes stand is what that one says.
      standing.clear();
      return;
    case 'fresh':
      // A node held at its review gate was fresh (or ran) first: the gate is its last word.
      if (standing.get(event.node) !== 'review') standing.set(event.node, 'fresh');
      return;
    case 'stale':
    case 'skipped':
    case 'review':
      standing.set(event.node, event.type);
      return;
    case 'success':
    case 'restored':
      standing.set(event.node, 'ran');
      return;
    case 'failure':
      standing.set(event.node, 'failed');
      return;
  }
}

function sameStanding(now: ReadonlyMap<string, Standing>, before: ReadonlyMap<string, Standing>): boolean {
  for (const [node, standing] of now) {
    // A node that ran last time and is fresh now is where that build left it.
    const was = before.get(node) === 'ran' ? 'fresh' : before.get(node);
    if (was !== standing) return false;
  }
  return true;
}
