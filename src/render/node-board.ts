import type { Paint } from './escapes.js';

type NodeView =
  /** Not decided yet: its dependencies are not all done, or spx is checking whether it is fresh. */
  | { state: 'pending' }
  /** Stale, and every job slot is taken. */
  | { state: 'queued' }
  /** Holds a job slot: restoring from the cache or running. */
  | { state: 'working'; title: string; detail: string }
  | { state: 'done' | 'failed' | 'skipped'; note: string };

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
/** Past this many, "waiting for a, b, c and 2 more". */
const NAMED_DEPENDENCIES = 3;

/**
 * What the live task list knows of each node of one build, and the lines
 * that show it: a spinner only for a node at work, and for a waiting one,
 * what it waits for.
 */
export class NodeBoard {
  private readonly views = new Map<string, NodeView>();
  private turn = 0;

  constructor(
    private readonly nodes: readonly string[],
    private readonly dependencies: Readonly<Record<string, readonly string[]>>,
    private readonly jobs: number,
  ) {
    for (const node of nodes) this.views.set(node, { state: 'pending' });
  }

  queue(node: string): void {
    this.views.set(node, { state: 'queued' });
  }

  work(node: string, title: string, detail = ''): void {
    this.views.set(node, { state: 'working', title, detail });
  }

  detail(node: string, detail: string): void {
    const view = this.views.get(node);
    if (view?.state === 'working') view.detail = detail;
  }

  settle(node: string, state: 'done' | 'failed' | 'skipped', note: string): void {
    this.views.set(node, { state, note });
  }

  /**
   * One line per node, and one more under a working node for its latest
   * output while the whole stays within `height` rows (a frame taller than
   * the screen could not be redrawn in place). Each call turns the spinners.
   */
  lines(paint: Paint, height: number): { text: string; paint: (text: string) => string }[] {
    const spinner = SPINNER[this.turn++ % SPINNER.length]!;
    let spareRows = height - this.nodes.length;
    const lines: { text: string; paint: (text: string) => string }[] = [];
    for (const node of this.nodes) {
      const view = this.views.get(node)!;
      switch (view.state) {
        case 'pending':
        case 'queued':
          lines.push({ text: `◦ ${node}  ${this.waitingFor(node, view.state)}`, paint: (text) => paint('dim', text) });
          break;
        case 'working':
          lines.push({ text: `${spinner} ${node}: ${view.title}`, paint: (text) => paint('cyan', text.slice(0, 1)) + text.slice(1) });
          if (view.detail !== '' && spareRows-- > 0) lines.push({ text: `    ${view.detail}`, paint: (text) => paint('dim', text) });
          break;
        case 'done':
          lines.push({ text: `✔ ${node} (${view.note})`, paint: (text) => paint('green', text.slice(0, 1)) + text.slice(1) });
          break;
        case 'failed':
          lines.push({ text: `✖ ${node}: ${view.note}`, paint: (text) => paint('red', text) });
          break;
        case 'skipped':
          lines.push({ text: `↓ ${node}: ${view.note}`, paint: (text) => paint('yellow', text) });
          break;
      }
    }
    return lines;
  }

  private waitingFor(node: string, state: 'pending' | 'queued'): string {
    if (state === 'queued') return `waiting for a slot (-j ${this.jobs})`;
    const unfinished = (this.dependencies[node] ?? []).filter((dependency) => {
      const view = this.views.get(dependency);
      return view !== undefined && view.state !== 'done' && view.state !== 'failed' && view.state !== 'skipped';
    });
    if (unfinished.length === 0) return 'checking';
    const named = unfinished.slice(0, NAMED_DEPENDENCIES).join(', ');
    const more = unfinished.length - NAMED_DEPENDENCIES;
    return `waiting for ${more > 0 ? `${named} and ${more} more` : named}`;
  }
}
