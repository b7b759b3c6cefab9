import { describe, expect, it } from 'vitest';
import { BuildState, buildInMemory, FakeRunner, MemoryFiles, pipelineFrom } from './helpers/memory-build.js';
import { walk, type Outcome } from '../src/scheduler/walk.js';

// The scheduler's rules pinned in memory, ninja's way (build_test.cc): the
// real walk, policies and fingerprints, over a map of files and a fake
// runner. No process starts; the end-to-end suites check the real thing.

function independent(count: number): string {
  const nodes = Array.from({ length: count }, (_, i) => `  n${i}: { kind: run, command: "true", outputs: [out/n${i}] }`);
  return `version: 1\nnodes:\n${nodes.join('\n')}\n`;
}

const chain = `
version: 1
nodes:
  a: { kind: run, command: "true", inputs: [x.txt], outputs: [a.out] }
  b: { kind: run, command: "true", needs: [a], outputs: [b.out] }
`;

const reviewed = `
version: 1
nodes:
  plan: { kind: plan, provider: echo, inputs: [USER-SPEC.md], output: AI-PLAN.md }
  apply: { kind: run, command: "true", needs: [plan], outputs: [applied] }
`;

describe('the -j cap', () => {
  for (const jobs of [1, 2, 4]) {
    it(`never runs more than ${jobs} node${jobs > 1 ? 's' : ''} at once, and reaches ${jobs} when it can`, async () => {
      const files = new MemoryFiles();
      const runner = new FakeRunner(files);
      const { summary } = await buildInMemory(pipelineFrom(independent(8)), BuildState.inMemory(), runner, { jobs });
      expect(summary.ran).toHaveLength(8);
      expect(runner.maxInFlight).toBe(jobs);
    });
  }

  it('starts a waiting node only when a running one finishes', async () => {
    const files = new MemoryFiles();
    const runner = new FakeRunner(files, { n0: { held: true }, n1: { held: true } });
    const building = buildInMemory(pipelineFrom(independent(3)), BuildState.inMemory(), runner, { jobs: 2 });
    await Promise.all([runner.whenStarted('n0'), runner.whenStarted('n1')]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(runner.ran).toEqual(['n0', 'n1']);
    runner.release('n1');
    await runner.whenStarted('n2');
    expect(runner.ran).toEqual(['n0', 'n1', 'n2']);
    runner.release('n0');
    expect((await building).summary.ran).toEqual(['n0', 'n1', 'n2']);
  });
});

describe('after a failure', () => {
  const pipeline = `
version: 1
nodes:
  a: { kind: run, command: "false", outputs: [a.out] }
  b: { kind: run, command: "true", outputs: [b.out] }
  c: { kind: run, command: "true", needs: [a], outputs: [c.out] }
`;

  it('starts nothing new and says why each node was not built', async () => {
    const runner = new FakeRunner(new MemoryFiles(), { a: { fail: true } });
    const { summary, events } = await buildInMemory(pipelineFrom(pipeline), BuildState.inMemory(), runner, { jobs: 1 });
    expect(runner.ran).toEqual(['a']);
    expect(summary.failed).toEqual(['a']);
    expect(summary.skipped.sort()).toEqual(['b', 'c']);
    const skipped = events.filter((event) => event.type === 'skipped');
    expect(skipped).toContainEqual(expect.objectContaining({ node: 'c', because: { reason: 'dependency-failed', node: 'a' } }));
    expect(skipped).toContainEqual(expect.objectContaining({ node: 'b', because: { reason: 'stopped-after-failure' } }));
  });

  it('with --keep-going builds every node that does not depend on the failure', async () => {
    const runner = new FakeRunner(new MemoryFiles(), { a: { fail: true } });
    const { summary } = await buildInMemory(pipelineFrom(pipeline), BuildState.inMemory(), runner, { jobs: 1, keepGoing: true });
    expect(runner.ran).toEqual(['a', 'b']);
    expect(summary.ran).toEqual(['b']);
    expect(summary.skipped).toEqual(['c']);
  });

  it('keeps the finished work: the next build runs only the failed node and what waited for it', async () => {
    const state = BuildState.inMemory();
    const files = new MemoryFiles();
    await buildInMemory(pipelineFrom(pipeline), state, new FakeRunner(files, { a: { fail: true } }), { jobs: 1, keepGoing: true });
    const again = new FakeRunner(files);
    await buildInMemory(pipelineFrom(pipeline), state, again, { jobs: 1 });
    expect(again.ran).toEqual(['a', 'c']);
  });
});

describe('early cutoff', () => {
  it('a dependent stays fresh when its upstream ran again and wrote the same bytes, and runs when they differ', async () => {
    const files = new MemoryFiles();
    files.write('x.txt', '1');
    const state = BuildState.inMemory();
    // a's output ignores whitespace in its input.
    const commands = { a: { write: (f: MemoryFiles) => f.write('a.out', f.contents.get('x.txt')!.trim()) } };
    await buildInMemory(pipelineFrom(chain), state, new FakeRunner(files, commands));

    files.write('x.txt', '1  ');
    const same = new FakeRunner(files, commands);
    const { summary } = await buildInMemory(pipelineFrom(chain), state, same);
    expect(same.ran).toEqual(['a']);
    expect(summary.fresh).toEqual(['b']);

    files.write('x.txt', '2');
    const different = new FakeRunner(files, commands);
    await buildInMemory(pipelineFrom(chain), state, different);
    expect(different.ran).toEqual(['a', 'b']);
  });

  it('a no-op build runs nothing', async () => {
    const files = new MemoryFiles();
    files.write('x.txt', '1');
    const state = BuildState.inMemory();
    await buildInMemory(pipelineFrom(chain), state, new FakeRunner(files));
    const noOp = new FakeRunner(files);
    const { summary } = await buildInMemory(pipelineFrom(chain), state, noOp);
    expect(noOp.ran).toEqual([]);
    expect(summary.fresh).toEqual(['a', 'b']);
  });
});

describe('an interrupt', () => {
  it('starts nothing more, records nothing of the interrupted node, and skips the rest', async () => {
    const files = new MemoryFiles();
    files.write('x.txt', '1');
    const state = BuildState.inMemory();
    const controller = new AbortController();
    const runner = new FakeRunner(files, { a: { held: true } });
    const building = buildInMemory(pipelineFrom(chain), state, runner, { signal: controller.signal });
    await runner.whenStarted('a');
    controller.abort('SIGINT');
    const { summary, events } = await building;
    expect(runner.ran).toEqual(['a']);
    expect(summary.interrupted).toBe(true);
    expect(summary.skipped).toEqual(['a', 'b']);
    expect(state.get('a')).toBeUndefined();
    expect(events.filter((event) => event.type === 'skipped').map((event) => event.type === 'skipped' && event.because)).toEqual([
      { reason: 'interrupted' },
      { reason: 'not-built', node: 'a' },
    ]);
    expect(events.at(-2)).toEqual({ type: 'interrupted', signal: 'SIGINT' });
  });
});

describe('the review gate', () => {
  it('holds the dependents of an unapproved output, lets them run once approved, and again holds them after an edit', async () => {
    const files = new MemoryFiles();
    files.write('USER-SPEC.md', 'a feature');
    const state = BuildState.inMemory();

    const first = new FakeRunner(files);
    const held = await buildInMemory(pipelineFrom(reviewed), state, first);
    expect(first.ran).toEqual(['plan']);
    expect(held.summary.awaitingReview).toEqual(['plan']);
    expect(held.summary.ran).toEqual(['plan']);
    expect(held.events).toContainEqual(expect.objectContaining({ type: 'skipped', node: 'apply', because: { reason: 'awaiting-review', node: 'plan' } }));

    const approving = new FakeRunner(files);
    const approved = await buildInMemory(pipelineFrom(reviewed), state, approving, { approve: true });
    expect(approving.ran).toEqual(['apply']);
    expect(approved.events).toContainEqual({ type: 'approved', node: 'plan', outputs: ['AI-PLAN.md'] });
    expect(approved.summary.awaitingReview).toEqual([]);

    files.write('AI-PLAN.md', 'edited by a reviewer after approval');
    const afterEdit = new FakeRunner(files);
    const again = await buildInMemory(pipelineFrom(reviewed), state, afterEdit);
    expect(afterEdit.ran).toEqual([]);
    expect(again.summary.awaitingReview).toEqual(['plan']);
    expect(again.summary.fresh).toEqual(['plan']);
    expect(again.summary.skipped).toEqual(['apply']);
  });

  it('a plan regenerated byte for byte stays approved', async () => {
    const files = new MemoryFiles();
    files.write('USER-SPEC.md', 'a feature');
    const state = BuildState.inMemory();
    await buildInMemory(pipelineFrom(reviewed), state, new FakeRunner(files), { approve: true });
    const forced = new FakeRunner(files);
    const { summary } = await buildInMemory(pipelineFrom(reviewed), state, forced, { force: new Set(['plan']) });
    expect(forced.ran).toEqual(['plan']);
    expect(summary.awaitingReview).toEqual([]);
    expect(summary.fresh).toEqual(['apply']);
  });
});

describe('a dry run', () => {
  it('runs nothing, and says a dependent of a stale node waits on it', async () => {
    const files = new MemoryFiles();
    files.write('x.txt', '1');
    const state = BuildState.inMemory();
    await buildInMemory(pipelineFrom(chain), state, new FakeRunner(files));
    files.write('x.txt', '2');
    const runner = new FakeRunner(files);
    const { summary, events } = await buildInMemory(pipelineFrom(chain), state, runner, { dryRun: true });
    expect(runner.ran).toEqual([]);
    expect(summary.stale).toEqual(['a', 'b']);
    const stale = events.filter((event) => event.type === 'stale');
    expect(stale.map((event) => event.type === 'stale' && event.reasons)).toEqual([[{ reason: 'input-changed', file: 'x.txt' }], [{ reason: 'upstream-will-run', node: 'a' }]]);
  });
});

describe('the walk itself', () => {
  it('fails, rather than hanging or leaving an unhandled rejection, when a policy throws', async () => {
    const graph = { order: ['a', 'b'], dependencies: (node: string) => (node === 'b' ? ['a'] : []), dependents: (node: string) => (node === 'a' ? ['b'] : []) };
    const policy = {
      decide: async (node: string) => {
        if (node === 'b') throw new Error('a bug in a policy');
        return 'fresh' as const;
      },
      settle: (_node: string, outcome: Outcome) => outcome,
      notAttempted: () => undefined,
    };
    await expect(walk(graph, policy, { jobs: 1, keepGoing: false, signal: new AbortController().signal })).rejects.toThrow('a bug in a policy');
  });
});
