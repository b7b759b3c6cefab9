/**
 * What became of a node in one build. `stale` is a dry run's "would run";
 * `awaiting-review` a review node held at its gate.
 */
export type Outcome = 'fresh' | 'ran' | 'restored' | 'stale' | 'failed' | 'skipped' | 'awaiting-review';

/** Why the walk did not attempt a node. */
export type NotAttempted =
  | { reason: 'dependency'; node: string; outcome: 'failed' | 'skipped' | 'awaiting-review' }
  | { reason: 'interrupted' }
  | { reason: 'stopped-after-failure' };

/** A node's work, started once a job slot (`-j`) is free. */
export type Job = () => Promise<Outcome | 'interrupted'>;

/**
 * The policies the walk asks about each node (ninja's Builder around its
 * Plan): the walk itself knows only dependencies, the `-j` cap,
 * cancellation and keep-going.
 */
export interface WalkPolicy {
  /**
   * Called once every dependency has finished and none blocks this node:
   * either what became of it (fresh, a dry run's stale) or the work that
   * brings it up to date. `outcomes` holds the finished nodes.
   */
  decide(node: string, outcomes: ReadonlyMap<string, Outcome>): Promise<Outcome | Job>;
  /** The final word on a finished node (a review gate holds a node that ran); called once per node. */
  settle(node: string, outcome: Outcome): Outcome;
  /** A node that will not be attempted, and why. */
  notAttempted(node: string, why: NotAttempted): void;
}

export interface WalkOptions {
  jobs: number;
  keepGoing: boolean;
  signal: AbortSignal;
}

/** The graph as the walk needs it: nodes in a topological order, with their edges. */
export interface WalkGraph {
  order: readonly string[];
  dependencies(node: string): readonly string[];
  dependents(node: string): readonly string[];
}

/** A dependency with one of these outcomes keeps its dependents from being attempted. */
const BLOCKING: ReadonlySet<Outcome> = new Set(['failed', 'skipped', 'awaiting-review']);

/**
 * Walks the graph: a node is decided as soon as every node it depends on
 * has finished, and its work runs when a job slot is free, independent
 * nodes up to `jobs` at a time. After a failure no new work starts unless
 * `keepGoing`; after the signal, none at all. Nodes decided quickly (fresh
 * ones) never wait for a slot. Every node of `order` ends with an outcome.
 */
export async function walk(graph: WalkGraph, policy: WalkPolicy, options: WalkOptions): Promise<Map<string, Outcome>> {
  const outcomes = new Map<string, Outcome>();
  const waitingOn = new Map(graph.order.map((node) => [node, new Set(graph.dependencies(node))]));
  const jobs: { node: string; job: Job }[] = [];
  let deciding = 0;
  let active = 0;
  let stopping = false;
  let wake: () => void = () => {};
  // A policy or job that throws (a bug, not a node's failure) fails the whole walk, not an unhandled promise.
  let fail: (error: unknown) => void = () => {};

  const finish = (node: string, result: Outcome): void => {
    const outcome = policy.settle(node, result);
    outcomes.set(node, outcome);
    if (outcome === 'failed' && !options.keepGoing) stopping = true;
    for (const dependent of graph.dependents(node)) {
      const waiting = waitingOn.get(dependent);
      if (!waiting) continue;
      waiting.delete(node);
      if (waiting.size === 0) ready(dependent);
    }
  };

  const ready = (node: string): void => {
    const blocker = graph.dependencies(node).find((dependency) => BLOCKING.has(outcomes.get(dependency)!));
    if (blocker) {
      const outcome = outcomes.get(blocker) as 'failed' | 'skipped' | 'awaiting-review';
      policy.notAttempted(node, { reason: 'dependency', node: blocker, outcome });
      return finish(node, 'skipped');
    }
    deciding++;
    policy.decide(node, outcomes).then((decision) => {
      deciding--;
      if (typeof decision === 'function') jobs.push({ node, job: decision });
      else finish(node, decision);
      pump();
    }, fail);
  };

  const pump = (): void => {
    while (jobs.length > 0 && active < options.jobs && !stopping && !options.signal.aborted) {
      const { node, job } = jobs.shift()!;
      active++;
      job().then((outcome) => {
        active--;
        if (outcome === 'interrupted') {
          // Said, like any node not built: a task list waits for every node's outcome.
          policy.notAttempted(node, { reason: 'interrupted' });
          finish(node, 'skipped');
        } else {
          finish(node, outcome);
        }
        pump();
      }, fail);
    }
    if (deciding === 0 && active === 0 && (jobs.length === 0 || stopping || options.signal.aborted)) wake();
  };

  await new Promise<void>((resolve, reject) => {
    wake = resolve;
    fail = reject;
    options.signal.addEventListener('abort', pump, { once: true });
    for (const node of graph.order) if (waitingOn.get(node)!.size === 0) ready(node);
    pump();
  });
  options.signal.removeEventListener('abort', pump);

  for (const node of graph.order) {
    if (outcomes.has(node)) continue;
    policy.notAttempted(node, options.signal.aborted ? { reason: 'interrupted' } : { reason: 'stopped-after-failure' });
    outcomes.set(node, 'skipped');
  }
  return outcomes;
}
