/**
 * The order in which execute nodes of one build bring their changes into
 * the user's tree: one at a time, in the order they started (which the
 * scheduler makes deterministic: instances start in id order). A node that
 * finished early waits for those that started before it, so which change
 * lands first, and which one must be reworked, does not depend on how fast
 * an agent was.
 */
export class MergeQueue {
  private issued = 0;
  private next = 0;
  /** How many changes this build brought into the tree so far. */
  landed = 0;
  private readonly waiting = new Map<number, () => void>();

  /** A place in the queue, taken when the node starts. */
  ticket(): number {
    return this.issued++;
  }

  /** Settles when every node with an earlier ticket has landed its change or given up. */
  async turn(ticket: number): Promise<void> {
    if (ticket === this.next) return;
    await new Promise<void>((resolve) => this.waiting.set(ticket, resolve));
  }

  /** Lets the next ticket go; called once per ticket, whatever became of its change. */
  done(ticket: number): void {
    if (ticket !== this.next) {
      // Given up before its turn (interrupted): skipped when its turn comes.
      this.abandoned.add(ticket);
      return;
    }
    this.next++;
    while (this.abandoned.delete(this.next)) this.next++;
    this.waiting.get(this.next)?.();
    this.waiting.delete(this.next);
  }

  private readonly abandoned = new Set<number>();
}

/** One queue per repository: execute nodes of one build share the user's tree. */
const queues = new Map<string, MergeQueue>();

export function mergeQueueFor(repoRoot: string): MergeQueue {
  let queue = queues.get(repoRoot);
  if (!queue) {
    queue = new MergeQueue();
    queues.set(repoRoot, queue);
  }
  return queue;
}
