import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeGemini, type FakeGemini } from './helpers/fake-gemini.js';
import { cleanupProjects, createProject, jsonEvents, type SpxOptions, type SpxResult, type TestProject } from './helpers/project.js';

let fake: FakeGemini;
let env: SpxOptions;
let key: string;

beforeEach(async () => {
  ({ fake, env } = await startFakeGemini());
  key = env.env!.GEMINI_API_KEY!;
});

afterEach(async () => {
  await cleanupProjects();
  await fake.stop();
});

const REQUEST = '# Request\n\nGreet the user by name.\n';

function pipeline(price = ', price: { input: 2, output: 8 }'): string {
  return `version: 1
providers:
  gemini: { type: gemini, model: gemini-test, baseUrl: "${fake.url}", retries: 0${price} }
defaults: { provider: gemini }
nodes:
  spec: { kind: spec, inputs: [USER-SPEC.md], output: AI-SPEC.md }
  plan: { kind: plan, needs: [spec], output: AI-PLAN.md, review: false }
`;
}

async function spx(p: TestProject, args: string[], code: number): Promise<SpxResult> {
  const result = await p.spx(args, env);
  expect(result.code, result.stdout + result.stderr).toBe(code);
  return result;
}

interface Line {
  node: string;
  instance?: string;
  provider: string;
  model?: string;
  inputTokens: number;
  outputTokens: number;
  costUsd?: number;
  cached: boolean;
  time: string;
}

function ledger(p: TestProject): Line[] {
  return p.exists('.spx/ledger.jsonl') ? p.read('.spx/ledger.jsonl').trim().split('\n').map((line) => JSON.parse(line) as Line) : [];
}

describe('the ledger and spx cost', () => {
  it('records every call and every restore, and spx cost adds them up as the ledger says', async () => {
    const p = createProject({ 'USER-SPEC.md': REQUEST }, pipeline());
    fake.enqueue({ answer: '# Spec 1\n', promptTokens: 1000, outputTokens: 200 }, { answer: '# Plan 1\n', promptTokens: 1500, outputTokens: 300 });
    await spx(p, ['build'], 0);
    expect(ledger(p)).toEqual([
      { time: expect.any(String), node: 'spec', provider: 'gemini', type: 'gemini', model: 'gemini-test', inputTokens: 1000, outputTokens: 200, costUsd: (1000 * 2 + 200 * 8) / 1e6, cached: false },
      { time: expect.any(String), node: 'plan', provider: 'gemini', type: 'gemini', model: 'gemini-test', inputTokens: 1500, outputTokens: 300, costUsd: (1500 * 2 + 300 * 8) / 1e6, cached: false },
    ]);

    p.write('USER-SPEC.md', '# Request\n\nSomething else.\n');
    fake.enqueue({ answer: '# Spec 2\n', promptTokens: 10, outputTokens: 20 }, { answer: '# Plan 2\n', promptTokens: 30, outputTokens: 40 });
    await spx(p, ['build'], 0);
    // Back to the first request: both restored from the cache, valued at the first calls.
    p.write('USER-SPEC.md', REQUEST);
    await spx(p, ['build'], 0);
    const lines = ledger(p);
    expect(fake.calls).toBe(4);
    expect(lines.slice(4).map(({ node, cached, inputTokens, outputTokens }) => ({ node, cached, inputTokens, outputTokens }))).toEqual([
      { node: 'spec', cached: true, inputTokens: 1000, outputTokens: 200 },
      { node: 'plan', cached: true, inputTokens: 1500, outputTokens: 300 },
    ]);

    const cost = JSON.parse((await spx(p, ['cost', '--json'], 0)).stdout) as {
      nodes: { node: string; calls: number; restores: number; spent: { inputTokens: number; costUsd: number }; saved: { inputTokens: number; costUsd: number } }[];
      total: { calls: number; restores: number; spent: { inputTokens: number; outputTokens: number; costUsd: number }; saved: { costUsd: number } };
    };
    const sum = (pick: (line: Line) => number, cached: boolean): number => lines.filter((l) => l.cached === cached).reduce((a, l) => a + pick(l), 0);
    expect(cost.total.calls).toBe(4);
    expect(cost.total.restores).toBe(2);
    expect(cost.total.spent.inputTokens).toBe(sum((l) => l.inputTokens, false));
    expect(cost.total.spent.outputTokens).toBe(sum((l) => l.outputTokens, false));
    expect(cost.total.spent.costUsd).toBeCloseTo(sum((l) => l.costUsd!, false), 12);
    expect(cost.total.saved.costUsd).toBeCloseTo(sum((l) => l.costUsd!, true), 12);
    expect(cost.nodes.map((n) => [n.node, n.calls, n.restores])).toEqual([['spec', 2, 1], ['plan', 2, 1]]);

    const plain = (await spx(p, ['cost'], 0)).stdout;
    expect(plain).toMatch(/^node +calls +spent tokens +spent +restores +saved tokens +saved$/m);
    expect(plain).toMatch(/^spec +2 +1,230 +\$0\.0038 +1 +1,200 +\$0\.0036$/m);
    expect(plain).toMatch(/^total +4 +3,100 +\$0\.0096 +2 +3,000 +\$0\.0090$/m);

    // Neither the key nor the prompt reaches the ledger.
    const text = p.read('.spx/ledger.jsonl');
    expect(text).not.toContain(key);
    expect(text).not.toContain('Greet the user');
  });

  it('gives tokens only for a provider without a price, and --since leaves out older calls', async () => {
    const p = createProject({ 'USER-SPEC.md': REQUEST }, pipeline(''));
    fake.enqueue({ answer: '# Spec\n' }, { answer: '# Plan\n' });
    await spx(p, ['build'], 0);
    expect(ledger(p).every((line) => line.costUsd === undefined)).toBe(true);
    const plain = (await spx(p, ['cost', '--since', '1h'], 0)).stdout;
    expect(plain).toMatch(/^total +2 +240 +- +0 +0 +-$/m);
    expect((await spx(p, ['cost', '--since', '2999-01-01'], 0)).stdout).toContain('no model or agent calls recorded since 2999-01-01');
    expect((await spx(p, ['cost', '--since', 'yesterday-ish'], 2)).stderr).toContain('--since expects a date');
  });
});

describe('foreach instances', () => {
  it('are forecast and recorded one instance at a time', async () => {
    const p = createProject(
      { 'features/login/USER-SPEC.md': '# Login\n\nLet users log in.\n', 'features/export/USER-SPEC.md': '# Export\n\nExport data as CSV, with a header line and one row per record.\n' },
      `version: 1
providers:
  gemini: { type: gemini, model: gemini-test, baseUrl: "${fake.url}", retries: 0, price: { input: 1, output: 1 } }
defaults: { provider: gemini }
nodes:
  spec:
    kind: spec
    foreach: features/{feature}/USER-SPEC.md
    inputs: ["features/{feature}/USER-SPEC.md"]
    output: features/{feature}/AI-SPEC.md
`,
    );
    const dry = jsonEvents((await spx(p, ['build', '--dry-run', '--json'], 0)).stdout).filter((event) => event.type === 'stale');
    const estimates = Object.fromEntries(dry.map((event) => [event.node as string, (event.estimate as { inputTokens: number }).inputTokens]));
    expect(Object.keys(estimates).sort()).toEqual(['spec:export', 'spec:login']);
    expect(estimates['spec:export']).toBeGreaterThan(estimates['spec:login']!);

    fake.enqueue({ answer: '# A\n' }, { answer: '# B\n' });
    await spx(p, ['build'], 0);
    expect(ledger(p).map(({ node, instance }) => `${node}/${instance}`).sort()).toEqual(['spec/export', 'spec/login']);
    const cost = JSON.parse((await spx(p, ['cost', '--json'], 0)).stdout) as { nodes: { node: string }[] };
    expect(cost.nodes.map((n) => n.node).sort()).toEqual(['spec:export', 'spec:login']);
  });
});
