import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeGemini, type FakeGemini } from './helpers/fake-gemini.js';
import { cleanupProjects, createProject, jsonEvents, REPO_ROOT, statusOf, type SpxOptions, type SpxResult, type TestProject } from './helpers/project.js';

let fake: FakeGemini;
let env: SpxOptions;

beforeEach(async () => {
  ({ fake, env } = await startFakeGemini());
});

afterEach(async () => {
  await cleanupProjects();
  await fake.stop();
});

let answerCount = 0;
/** Queues `count` distinct answers (usage 100 in / 20 out each) and returns them. */
function answers(count: number): string[] {
  const texts = Array.from({ length: count }, () => `# Answer ${++answerCount}\n\nFrom the fake Gemini.\n`);
  fake.enqueue(...texts.map((answer) => ({ answer })));
  return texts;
}

const BUNDLE = '.spx/context/context.xml';

const SOURCES = {
  'USER-SPEC.md': '# Request\n\nGreet the user by name.\n',
  'src/greet.ts': 'export function greet(name: string): string {\n  return `Hello, ${name}`;\n}\n',
  'src/main.ts': 'import { greet } from "./greet";\nconsole.log(greet("world"));\n',
  'docs/notes.md': 'Notes the context does not select.\n',
};

/** A real context node: repomix packs the selected sources. */
const REPOMIX_CONTEXT = `  context:
    kind: context
    files: { include: ["src/**/*.ts"] }
`;

/**
 * A run node standing in for the context, where the test is about the
 * prompt nodes downstream: cheaper than packing with repomix, and
 * independent of the context kind's own behaviour.
 */
const RUN_CONTEXT = `  context:
    kind: run
    command: cat src/*.ts > bundle.txt
    inputs: ["src/**/*.ts"]
    outputs: [bundle.txt]
`;

/** The standard pipeline: a context bundle used (not needed) by spec and plan, and a run node after the reviewed plan. */
function pipeline(context = RUN_CONTEXT): string {
  return `version: 1
providers:
  gemini: { type: gemini, model: gemini-test, baseUrl: "${fake.url}", retries: 0 }
defaults: { provider: gemini }
nodes:
${context}  spec: { kind: spec, inputs: [USER-SPEC.md], uses: [context], output: AI-SPEC.md }
  plan: { kind: plan, needs: [spec], uses: [context], output: AI-PLAN.md }
  impl:
    kind: run
    command: echo impl >> runs.log && cp AI-PLAN.md impl.out
    needs: [plan]
    outputs: [impl.out]
`;
}

function project(context = RUN_CONTEXT): TestProject {
  return createProject(SOURCES, pipeline(context));
}

function printed(result: SpxResult): string {
  return result.stdout + result.stderr;
}

async function expectBuild(p: TestProject, args: string[], code: number): Promise<SpxResult> {
  const result = await p.spx(['build', ...args], env);
  expect(result.code, printed(result)).toBe(code);
  return result;
}

/** A project built and approved once, its runs log emptied. */
async function builtAndApproved(context = RUN_CONTEXT): Promise<TestProject> {
  const p = project(context);
  answers(2);
  await expectBuild(p, ['--approve'], 0);
  expect(p.takeRuns()).toEqual(['impl']);
  return p;
}

describe('context → spec → plan: model calls only for what changed', () => {
  it('builds with exactly two model calls, each prompt holding its inputs and the context bundle', async () => {
    const p = project(REPOMIX_CONTEXT);
    const [spec, plan] = answers(2);
    const result = await expectBuild(p, ['--approve'], 0);
    expect(fake.calls).toBe(2);
    expect(p.takeRuns()).toEqual(['impl']);
    expect(p.read('AI-SPEC.md')).toBe(spec);
    expect(p.read('AI-PLAN.md')).toBe(plan);
    expect(p.read('impl.out')).toBe(p.read('AI-PLAN.md'));
    expect(result.stdout).toContain('▶ context');

    const [specPrompt, planPrompt] = fake.requests.map((r) => r.body.contents[0]!.parts[0]!.text);
    // The default instructions that ship with spx.
    const firstLine = (kind: string): string => readFileSync(path.join(REPO_ROOT, 'pipelines/prompts', `${kind}.md`), 'utf8').split('\n')[0]!;
    expect(specPrompt!.startsWith(firstLine('spec'))).toBe(true);
    expect(planPrompt!.startsWith(firstLine('plan'))).toBe(true);
    expect(specPrompt).toContain(`<<<< BEGIN input: USER-SPEC.md >>>>\n${SOURCES['USER-SPEC.md']}<<<< END input: USER-SPEC.md >>>>`);
    expect(specPrompt).toContain(`<<<< BEGIN uses context: ${BUNDLE} >>>>`);
    expect(planPrompt).toContain(`<<<< BEGIN needs spec: AI-SPEC.md >>>>\n${p.read('AI-SPEC.md')}<<<< END needs spec: AI-SPEC.md >>>>`);
    expect(planPrompt).toContain(`<<<< BEGIN uses context: ${BUNDLE} >>>>`);
    for (const prompt of [specPrompt, planPrompt]) expect(prompt).toContain('return `Hello, ${name}`;');
  });

  it('makes no model call on a second build, nor after an edit the context does not select', async () => {
    const p = await builtAndApproved(REPOMIX_CONTEXT);
    expect((await expectBuild(p, [], 0)).stdout).toMatch(/spx: 0 ran, 4 fresh/);
    p.write('docs/notes.md', 'Edited notes.\n');
    expect((await expectBuild(p, [], 0)).stdout).toMatch(/spx: 0 ran, 4 fresh/);
    expect(fake.calls).toBe(2);
    expect(p.takeRuns()).toEqual([]);
  });

  it('makes exactly two model calls after USER-SPEC.md is edited', async () => {
    const p = await builtAndApproved(REPOMIX_CONTEXT);
    p.write('USER-SPEC.md', '# Request\n\nGreet the user by name, in French.\n');
    answers(2);
    await expectBuild(p, ['--approve'], 0);
    expect(fake.calls).toBe(4);
    expect(fake.requests[2]!.body.contents[0]!.parts[0]!.text).toContain('in French');
    expect(p.takeRuns()).toEqual(['impl']);
  });

  it('makes no model call when code the context selects changes: the context reruns, spec and plan only use it', async () => {
    const p = await builtAndApproved(REPOMIX_CONTEXT);
    const bundle = p.read(BUNDLE);
    p.write('src/greet.ts', SOURCES['src/greet.ts'].replace('Hello', 'Bonjour'));
    const status = await statusOf(p, env);
    expect(Object.fromEntries(Object.entries(status).map(([name, s]) => [name, s.state]))).toEqual({
      context: 'stale',
      spec: 'fresh',
      plan: 'fresh',
      impl: 'fresh',
    });

    const result = await expectBuild(p, [], 0);
    expect(result.stdout).toContain('▶ context');
    expect(result.stdout).not.toMatch(/▶ (spec|plan)/);
    expect(p.read(BUNDLE)).not.toBe(bundle);
    expect(p.read(BUNDLE)).toContain('Bonjour');
    expect(fake.calls).toBe(2);
    expect(p.takeRuns()).toEqual([]);
  });
});

describe('the plan review gate', () => {
  it('stops the first build with exit 3, holding dependents back until `spx approve plan`', async () => {
    const p = project();
    answers(2);
    const first = await expectBuild(p, [], 3);
    expect(fake.calls).toBe(2);
    expect(first.stdout).toContain('- impl skipped: "plan" awaits review (spx approve plan)');
    expect(first.stderr).toContain('spx: review AI-PLAN.md, then run: spx approve plan');
    expect(p.exists('AI-PLAN.md')).toBe(true);
    expect(p.exists('impl.out')).toBe(false);
    expect(p.takeRuns()).toEqual([]);

    const status = await statusOf(p, env);
    expect(status.plan!.state).toBe('awaiting-review');
    expect(status.plan!.reasons).toEqual(['approve AI-PLAN.md with: spx approve plan']);
    expect(status.impl!.state).toBe('blocked');
    expect((await p.spx(['status'], env)).stdout).toMatch(/^plan\s+awaiting-review\b/m);
    expect((await p.spx(['approve'], env)).stdout).toContain('awaiting review: plan');
    // Still gated: building again neither regenerates the plan nor runs impl.
    await expectBuild(p, [], 3);
    expect(fake.calls).toBe(2);

    const approve = await p.spx(['approve', 'plan'], env);
    expect(approve.code, printed(approve)).toBe(0);
    expect(approve.stdout).toMatch(/^approved plan \(AI-PLAN\.md; [0-9a-f]{12}\)$/m);
    expect(p.lock().nodes.plan).toHaveProperty('approved');

    await expectBuild(p, [], 0);
    expect(fake.calls).toBe(2);
    expect(p.takeRuns()).toEqual(['impl']);
    expect(p.read('impl.out')).toBe(p.read('AI-PLAN.md'));
  });

  it('voids the approval when AI-PLAN.md is edited afterwards, keeping the edit rather than regenerating it', async () => {
    const p = await builtAndApproved();
    const edited = p.read('AI-PLAN.md') + '\n## Reviewer note\n\nAlso handle an empty name.\n';
    p.write('AI-PLAN.md', edited);

    await expectBuild(p, [], 3);
    expect(p.read('AI-PLAN.md')).toBe(edited);
    expect(fake.calls).toBe(2);
    expect(p.takeRuns()).toEqual([]);
    expect((await statusOf(p, env)).plan!.state).toBe('awaiting-review');

    expect((await p.spx(['approve', 'plan'], env)).code).toBe(0);
    await expectBuild(p, [], 0);
    // The dependent runs on what the human approved.
    expect(p.takeRuns()).toEqual(['impl']);
    expect(p.read('impl.out')).toBe(edited);
    expect(fake.calls).toBe(2);
  });

  it('spx build --approve approves without asking', async () => {
    const p = project();
    answers(2);
    const result = await expectBuild(p, ['--approve'], 0);
    expect(result.stdout).toContain('✓ plan: AI-PLAN.md approved (--approve)');
    expect(p.takeRuns()).toEqual(['impl']);
    expect((await statusOf(p, env)).plan!.state).toBe('fresh');
  });

  it('backs up a hand-edited AI-PLAN.md, printing where, when a spec change regenerates it', async () => {
    const p = await builtAndApproved();
    const edited = '# My own plan\n\n1. Edit src/greet.ts.\n';
    p.write('AI-PLAN.md', edited);
    await expectBuild(p, [], 3);
    expect(p.read('AI-PLAN.md')).toBe(edited);

    p.write('USER-SPEC.md', '# Request\n\nGreet the user by name and by title.\n');
    const [, plan] = answers(2);
    const result = await expectBuild(p, [], 3);
    expect(fake.calls).toBe(4);
    const match = /^! plan: AI-PLAN\.md was edited by hand; saved a copy to (\.spx\/backups\/plan\/\S+\/AI-PLAN\.md)$/m.exec(result.stdout);
    expect(match, result.stdout).not.toBeNull();
    expect(p.read(match![1]!)).toBe(edited);
    expect(p.read('AI-PLAN.md')).toBe(plan);
    // The regenerated plan is new content: it needs a review of its own.
    expect((await statusOf(p, env)).plan!.state).toBe('awaiting-review');
  });

  it('keeps the approval when the plan regenerates byte for byte', async () => {
    const p = project();
    fake.enqueue({ answer: '# Spec v1\n' }, { answer: '# The plan\n' });
    await expectBuild(p, ['--approve'], 0);
    expect(p.takeRuns()).toEqual(['impl']);

    p.write('USER-SPEC.md', '# Request\n\nGreet the user by name, politely.\n');
    fake.enqueue({ answer: '# Spec v2\n' }, { answer: '# The plan\n' });
    const result = await expectBuild(p, [], 0);
    expect(fake.calls).toBe(4);
    expect(result.stdout).toContain('▶ plan');
    expect(result.stdout).not.toContain('awaits review');
    // Same plan bytes: impl is fresh (early cutoff).
    expect(p.takeRuns()).toEqual([]);
  });
});

describe('costs: tokens per node and per build', () => {
  /** A project built once (spec 1,000 in / 200 out, plan 2,000 in / 300 out) and approved. */
  async function builtWithUsage(): Promise<{ p: TestProject; result: SpxResult }> {
    const p = project();
    fake.enqueue({ answer: '# Spec\n', promptTokens: 1000, outputTokens: 200 }, { answer: '# Plan\n', promptTokens: 2000, outputTokens: 300 });
    const result = await expectBuild(p, ['--approve'], 0);
    return { p, result };
  }

  it('shows each node’s tokens in the build, spx status and status --json, and the total in the summary', async () => {
    const { p, result } = await builtWithUsage();
    expect(result.stdout).toMatch(/^✓ spec \(\S+s, 1,200 model tokens \(1,000 in, 200 out\), gemini-test\)$/m);
    expect(result.stdout).toMatch(/^✓ plan \(\S+s, 2,300 model tokens \(2,000 in, 300 out\), gemini-test\)$/m);
    expect(result.stdout).toMatch(/^spx: .*3,500 tokens spent/m);

    const text = (await p.spx(['status'], env)).stdout;
    expect(text).toMatch(/^spec\s+fresh \(1,200 model tokens \(1,000 in, 200 out\), gemini-test\)$/m);
    expect(text).toMatch(/^plan\s+fresh \(2,300 model tokens \(2,000 in, 300 out\), gemini-test\)$/m);

    const json = JSON.parse((await p.spx(['status', '--json'], env)).stdout) as { nodes: { name: string; metrics?: Record<string, unknown> }[] };
    const metrics = Object.fromEntries(json.nodes.map((n) => [n.name, n.metrics]));
    expect(metrics.spec).toMatchObject({ promptTokens: 1000, outputTokens: 200, totalTokens: 1200 });
    expect(metrics.plan).toMatchObject({ promptTokens: 2000, outputTokens: 300, totalTokens: 2300 });
  });

  it('restores from the cache after spx clean, saying how many tokens it saved, with no request', async () => {
    const { p } = await builtWithUsage();
    const plan = p.read('AI-PLAN.md');
    expect((await p.spx(['clean'], env)).code).toBe(0);
    expect(p.exists('AI-PLAN.md')).toBe(false);

    // The restored plan is the approved content, so it stays approved.
    const result = await expectBuild(p, [], 0);
    expect(fake.calls).toBe(2);
    expect(result.stdout).toContain('↺ spec restored from cache');
    expect(result.stdout).toContain('↺ plan restored from cache');
    expect(result.stdout).toMatch(/^spx: .*3,500 tokens saved by the cache/m);
    expect(result.stdout).not.toContain('tokens spent');
    expect(p.read('AI-PLAN.md')).toBe(plan);
  });

  it('serves a fresh clone from the first checkout’s cache (--cache-dir): nothing spent, tokens saved', async () => {
    const { p } = await builtWithUsage();
    const clone = createProject(SOURCES, pipeline());
    const result = await clone.spx(['build', '--json', '--approve', '--cache-dir', p.path('.spx/cache')], env);
    expect(result.code, printed(result)).toBe(0);
    expect(fake.calls).toBe(2);
    const events = jsonEvents(result.stdout);
    expect(events.filter((e) => e.type === 'restored').map((e) => e.node)).toEqual(expect.arrayContaining(['spec', 'plan']));
    const end = events.find((e) => e.type === 'build-end') as unknown as { summary: { tokens: { spent: number; saved: number } } };
    expect(end.summary.tokens).toEqual({ spent: 0, saved: 3500 });
    for (const file of ['AI-SPEC.md', 'AI-PLAN.md']) expect(clone.read(file)).toBe(p.read(file));
  });
});
