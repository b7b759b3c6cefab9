import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';
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

/** Sources large enough that the prompt's files, not the instruction, dominate its tokens. */
const SOURCES = {
  'USER-SPEC.md': '# Request\n\nGreet the user by name, politely, in any of the languages the user lists.\n',
  ...Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`src/part${i}.ts`, `export function part${i}(name: string): string {\n  return \`Part ${i} greets \${name}\`;\n}\n`])),
};

const PRICE = 'price: { input: 1.25, output: 10 }';

function pipeline(price = PRICE): string {
  return `version: 1
providers:
  gemini: { type: gemini, model: gemini-test, baseUrl: "${fake.url}", retries: 0${price ? `, ${price}` : ''} }
defaults: { provider: gemini }
nodes:
  context: { kind: run, command: "cat src/*.ts > bundle.txt", inputs: ["src/**/*.ts"], outputs: [bundle.txt] }
  spec: { kind: spec, inputs: [USER-SPEC.md], uses: [context], output: AI-SPEC.md }
  plan: { kind: plan, needs: [spec], uses: [context], output: AI-PLAN.md, review: false }
`;
}

async function spx(p: TestProject, args: string[], code: number): Promise<SpxResult> {
  const result = await p.spx(args, env);
  expect(result.code, result.stdout + result.stderr).toBe(code);
  return result;
}

type Estimate = { inputTokens: number; outputTokens: number; costUsd?: number; approximate?: boolean; outputFrom: string };

function estimates(result: SpxResult): Record<string, Estimate> {
  return Object.fromEntries(
    jsonEvents(result.stdout)
      .filter((event) => event.type === 'stale' && event.estimate)
      .map((event) => [event.node as string, event.estimate as Estimate]),
  );
}

function forecastOf(result: SpxResult): { inputTokens: number; outputTokens: number; costUsd?: number } {
  const end = jsonEvents(result.stdout).find((event) => event.type === 'build-end') as unknown as { summary: { forecast: { inputTokens: number; outputTokens: number; costUsd?: number } } };
  return end.summary.forecast;
}

describe('the forecast of spx build --dry-run', () => {
  it('estimates the prompt tokens of spec and plan within 2x of the prompts then sent', async () => {
    const p = createProject(SOURCES, pipeline());
    await spx(p, ['build', 'context'], 0);
    const dry = await spx(p, ['build', '--dry-run', '--json'], 0);
    const { spec, plan } = estimates(dry);
    expect(fake.calls).toBe(0);

    fake.enqueue({ answer: '# Spec\n\nGreet by name.\n' }, { answer: '# Plan\n\n1. Greet.\n' });
    await spx(p, ['build'], 0);
    const [specSent, planSent] = fake.prompts.map((prompt) => countTokens(prompt));
    // The spec's prompt is assembled from files that exist: counted piece by piece, it is within a token or two per section.
    expect(Math.abs(spec!.inputTokens - specSent!)).toBeLessThanOrEqual(4);
    expect(spec!.approximate).toBeUndefined();
    // The plan's needed spec does not exist yet: approximate, and within 2x.
    expect(plan!.approximate).toBe(true);
    expect(plan!.inputTokens).toBeGreaterThanOrEqual(planSent! / 2);
    expect(plan!.inputTokens).toBeLessThanOrEqual(planSent! * 2);
    // No history and no maxOutputTokens: the documented default length.
    expect(spec!.outputFrom).toBe('default');
    expect(spec!.outputTokens).toBe(4000);
    expect(spec!.costUsd).toBeCloseTo((spec!.inputTokens * 1.25 + 4000 * 10) / 1e6, 10);
    const total = forecastOf(dry);
    expect(total.inputTokens).toBe(spec!.inputTokens + plan!.inputTokens);
    expect(total.costUsd).toBeCloseTo(spec!.costUsd! + plan!.costUsd!, 10);
  });

  it('takes the expected answer length from the node’s last runs, else maxOutputTokens', async () => {
    const p = createProject(SOURCES, pipeline(`${PRICE}, maxOutputTokens: 1234`));
    let dry = await spx(p, ['build', '--dry-run', '--json'], 0);
    expect(estimates(dry).spec).toMatchObject({ outputTokens: 1234, outputFrom: 'maxOutputTokens' });
    fake.enqueue({ answer: '# Spec\n', outputTokens: 321 }, { answer: '# Plan\n', outputTokens: 55 });
    await spx(p, ['build'], 0);
    p.write('USER-SPEC.md', '# Request\n\nGreet the user, in French.\n');
    dry = await spx(p, ['build', '--dry-run', '--json'], 0);
    expect(estimates(dry).spec).toMatchObject({ outputTokens: 321, outputFrom: 'history' });
    expect(estimates(dry).plan).toMatchObject({ outputTokens: 55, outputFrom: 'history', approximate: true });
  });

  it('shows tokens and dollars per node and in total in plain output', async () => {
    const p = createProject(SOURCES, pipeline());
    const result = await spx(p, ['build', '--dry-run'], 0);
    expect(result.stdout).toMatch(/• spec would run: ~?[\d,]+ tokens in \+ 4,000 out by default, \$0\.0\d+/);
    expect(result.stdout).toMatch(/• plan would run: ~[\d,]+ tokens in \+ 4,000 out by default, \$0\.0\d+/);
    expect(result.stdout).toMatch(/spx: forecast: [\d,]+ tokens in \+ 8,000 out, \$0\.\d+/);
  });

  it('gives tokens only for a provider without a price', async () => {
    const p = createProject(SOURCES, pipeline(''));
    const dry = await spx(p, ['build', '--dry-run', '--json'], 0);
    expect(estimates(dry).spec!.costUsd).toBeUndefined();
    expect(forecastOf(dry).costUsd).toBeUndefined();
    const plain = await spx(p, ['build', '--dry-run'], 0);
    expect(plain.stdout).not.toContain('$');
    expect(plain.stdout).toContain('no price for spec, plan (tokens only)');
  });

  it('forecasts 0 for a build the cache would restore whole', async () => {
    const p = createProject(SOURCES, pipeline());
    fake.enqueue({ answer: '# Spec\n' }, { answer: '# Plan\n' });
    await spx(p, ['build'], 0);
    const spec = p.read('AI-SPEC.md');
    p.write('USER-SPEC.md', '# Request\n\nSomething else.\n');
    fake.enqueue({ answer: '# Spec 2\n' }, { answer: '# Plan 2\n' });
    await spx(p, ['build'], 0);
    // Back to the first request: spec and plan are in the cache.
    p.write('USER-SPEC.md', SOURCES['USER-SPEC.md']);
    const dry = await spx(p, ['build', '--dry-run', '--json'], 0);
    expect(estimates(dry)).toEqual({});
    expect(forecastOf(dry)).toMatchObject({ inputTokens: 0, outputTokens: 0 });
    await spx(p, ['build'], 0);
    expect(p.read('AI-SPEC.md')).toBe(spec);
    expect(fake.calls).toBe(4);
  });

  it('asks Gemini to count with --exact', async () => {
    const p = createProject(SOURCES, pipeline());
    fake.countTokensAnswer = 777;
    const dry = await spx(p, ['build', '--dry-run', '--exact', '--json'], 0);
    expect(estimates(dry).spec).toMatchObject({ inputTokens: 777, inputFrom: 'provider' });
    expect(fake.requests.every((request) => request.path.includes(':countTokens'))).toBe(true);
    expect(fake.calls).toBe(2);
  });

  it('shows the same estimates in spx status, and with --cost the price used', async () => {
    const p = createProject(SOURCES, pipeline());
    const dry = estimates(await spx(p, ['build', '--dry-run', '--json'], 0));
    const status = JSON.parse((await spx(p, ['status', '--json', '--cost'], 0)).stdout) as {
      nodes: { name: string; estimate?: Estimate }[];
      forecast: { inputTokens: number };
      prices: { providers: { provider: string; price?: { input: number; output: number } }[]; tokenizer: string };
    };
    expect(status.nodes.find((n) => n.name === 'spec')!.estimate).toEqual(dry.spec);
    expect(status.forecast.inputTokens).toBe(dry.spec!.inputTokens + dry.plan!.inputTokens);
    expect(status.prices.providers).toEqual([{ provider: 'gemini', model: 'gemini-test', price: { input: 1.25, output: 10 }, source: 'spx.yaml' }]);
    expect(status.prices.tokenizer).toContain('o200k_base');
    const plain = await spx(p, ['status', '--cost'], 0);
    expect(plain.stdout).toMatch(/spec +stale \(~?[\d,]+ tokens in \+ 4,000 out by default, \$0\.\d+\)/);
    expect(plain.stdout).toContain('price of gemini (gemini-test): $1.25 in / $10 out per million tokens (spx.yaml)');
    expect(fake.calls).toBe(0);
  });

  it('counts a context bundle as repomix counted it when it packed it, and the prompt as sent', async () => {
    const p = createProject(
      SOURCES,
      pipeline().replace(/  context: \{ kind: run.*\n/, '  context: { kind: context, files: { include: ["src/**/*.ts"] } }\n').replace(', review: false', ''),
    );
    await spx(p, ['build', 'context'], 0);
    const bundleTokens = (p.lock().nodes.context as unknown as { metrics: { tokens: number } }).metrics.tokens;
    expect(bundleTokens).toBe(countTokens(p.read('.spx/context/context.xml')));
    const { spec } = estimates(await spx(p, ['build', '--dry-run', '--json', 'spec'], 0));
    fake.enqueue({ answer: '# Spec\n' });
    await spx(p, ['build', 'spec'], 0);
    expect(Math.abs(spec!.inputTokens - countTokens(fake.prompts[0]!))).toBeLessThanOrEqual(4);
  });

  it('says plainly that an agent which never ran here has an unknown use, and leaves it out of the total', async () => {
    const withAgent = pipeline().replace('providers:\n', 'providers:\n  claude: { type: claude-code, price: { input: 3, output: 15 } }\n');
    const p = createProject(SOURCES, `${withAgent}  execute: { kind: execute, needs: [plan], output: change.patch, agent: claude, verify: ["true"] }\n`);
    const dry = await spx(p, ['build', '--dry-run', '--json'], 0);
    const execute = jsonEvents(dry.stdout).find((event) => event.type === 'stale' && event.node === 'execute') as unknown as { estimate: { unknown: string } };
    expect(execute.estimate.unknown).toContain('has not run here yet');
    expect(forecastOf(dry)).toMatchObject({ unknown: ['execute'] });
    const plain = await spx(p, ['build', '--dry-run'], 0);
    expect(plain.stdout).toContain('• execute would run: tokens unknown: an agent that has not run here yet');
    expect(plain.stdout).toMatch(/spx: forecast: .*; unknown: execute/);
  });
});
