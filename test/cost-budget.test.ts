import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeGemini, type FakeGemini } from './helpers/fake-gemini.js';
import { cleanupProjects, createProject, jsonEvents, type SpxOptions, type SpxResult, type TestProject } from './helpers/project.js';

let fake: FakeGemini;
let env: SpxOptions;

beforeEach(async () => {
  ({ fake, env } = await startFakeGemini());
});

afterEach(async () => {
  await cleanupProjects();
  await fake.stop();
});

const SOURCES = { 'USER-SPEC.md': '# Request\n\nGreet the user by name.\n' };

function pipeline(extra = ''): string {
  return `version: 1
providers:
  gemini: { type: gemini, model: gemini-test, baseUrl: "${fake.url}", retries: 0, price: { input: 1, output: 10 } }
defaults: { provider: gemini }
${extra}nodes:
  spec: { kind: spec, inputs: [USER-SPEC.md], output: AI-SPEC.md }
  plan: { kind: plan, needs: [spec], output: AI-PLAN.md }
  after: { kind: run, command: "echo after >> runs.log && cp AI-PLAN.md after.out", needs: [plan], outputs: [after.out] }
`;
}

async function spx(p: TestProject, args: string[], code: number): Promise<SpxResult> {
  const result = await p.spx(args, env);
  expect(result.code, result.stdout + result.stderr).toBe(code);
  return result;
}

function expectRefused(result: SpxResult, budget: string): void {
  expect(result.stderr).toMatch(new RegExp(`spx: over budget: the forecast: [\\d,]+ tokens in \\+ 8,000 out, \\$0\\.\\d+; the budget is ${budget.replace('$', '\\$')}`));
  expect(result.stderr).toMatch(/\n  spec  [\d,]+ tokens in \+ 4,000 out by default, \$0\.\d+/);
  expect(result.stderr).toMatch(/\n  plan  ~[\d,]+ tokens in \+ 4,000 out by default, \$0\.\d+/);
  expect(result.stderr).toContain('nothing was built and no model was called');
  expect(fake.calls).toBe(0);
}

describe('a budget refuses a build whose forecast exceeds it, before any request', () => {
  it('--max-tokens, even with --approve', async () => {
    const p = createProject(SOURCES, pipeline());
    expectRefused(await spx(p, ['build', '--approve', '--max-tokens', '5000'], 1), '5,000 tokens');
    expect(p.exists('AI-SPEC.md')).toBe(false);
    expect(p.takeRuns()).toEqual([]);
  });

  it('--max-cost, priced from the provider', async () => {
    const p = createProject(SOURCES, pipeline());
    expectRefused(await spx(p, ['build', '--max-cost', '0.05'], 1), '$0.0500');
  });

  it('budget: in spx.yaml, which a flag overrides', async () => {
    const p = createProject(SOURCES, pipeline('budget: { maxTokens: 1000 }\n'));
    expectRefused(await spx(p, ['build', '--approve'], 1), '1,000 tokens');
    const json = await spx(p, ['build', '--json'], 1);
    const refused = jsonEvents(json.stdout).find((event) => event.type === 'budget-refused') as unknown as { budget: unknown; nodes: { node: string }[] };
    expect(refused.budget).toEqual({ maxTokens: 1000 });
    expect(refused.nodes.map((n) => n.node)).toEqual(['spec', 'plan']);
    fake.enqueue({ answer: '# Spec\n' }, { answer: '# Plan\n' });
    await spx(p, ['build', '--approve', '--max-tokens', '100000'], 0);
    expect(fake.calls).toBe(2);
  });

  it('rejects a budget that is not a number', async () => {
    const p = createProject(SOURCES, pipeline());
    const result = await spx(p, ['build', '--max-cost', 'lots'], 2);
    expect(result.stderr).toContain('--max-cost expects an amount of US dollars (e.g. 0.50), got "lots"');
  });
});

describe('a budget crossed during the build', () => {
  it('starts no further model node, lets the running one finish, and exits 1 saying so', async () => {
    const p = createProject(SOURCES, pipeline());
    // A first build teaches the forecast that answers are short.
    fake.enqueue({ answer: '# Spec\n', promptTokens: 50, outputTokens: 5 }, { answer: '# Plan\n', promptTokens: 50, outputTokens: 5 });
    await spx(p, ['build', '--approve'], 0);
    p.takeRuns();
    p.write('USER-SPEC.md', '# Request\n\nGreet the user by name, in French.\n');
    const dry = jsonEvents((await spx(p, ['build', '--dry-run', '--json'], 0)).stdout);
    const forecast = (dry.find((event) => event.type === 'build-end') as unknown as { summary: { forecast: { inputTokens: number; outputTokens: number } } }).summary.forecast;
    expect(forecast.outputTokens).toBe(10);
    expect(forecast.inputTokens + forecast.outputTokens).toBeLessThan(3000);

    // This time the spec's answer is long: its call alone crosses the budget.
    fake.enqueue({ answer: '# Spec, long\n', promptTokens: 60, outputTokens: 5000 });
    const result = await spx(p, ['build', '--approve', '--max-tokens', '3000'], 1);
    expect(fake.calls).toBe(3);
    expect(p.read('AI-SPEC.md')).toBe('# Spec, long\n');
    expect(result.stdout).toContain('- plan skipped: the build has spent its budget: no further model call starts');
    expect(result.stderr).toContain("spx: over budget: this build's model calls used 5,060 tokens, $0.0501, over the budget of 3,000 tokens; not started: plan");
    expect(p.takeRuns()).toEqual([]);
  });
});
