import { rm } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeGemini, type FakeGemini } from './helpers/fake-gemini.js';
import { cleanupProjects, createProject, type SpxOptions, type SpxResult, type TestProject } from './helpers/project.js';

let fake: FakeGemini;
let env: SpxOptions;

beforeEach(async () => {
  ({ fake, env } = await startFakeGemini());
});

afterEach(async () => {
  await cleanupProjects();
  await fake.stop();
});

const SPEC_ANSWER = '# Spec\n\nCount words.\n';
const PLAN = '# Plan\n\n1. Read the file.\n2. Split on spaces.\n3. Print the count.\n';

function project(): TestProject {
  return createProject(
    { 'USER-SPEC.md': '# Words\n\nCount the words of a file.\n' },
    `version: 1
providers:
  gemini: { type: gemini, model: gemini-test, baseUrl: "${fake.url}", retries: 0 }
defaults: { provider: gemini }
nodes:
  spec: { kind: spec, inputs: [USER-SPEC.md], output: AI-SPEC.md }
  plan: { kind: plan, needs: [spec], output: AI-PLAN.md }
`,
  );
}

function printed(result: SpxResult): string {
  return result.stdout + result.stderr;
}

async function spx(p: TestProject, args: string[], code: number): Promise<SpxResult> {
  const result = await p.spx(args, env);
  expect(result.code, printed(result)).toBe(code);
  return result;
}

/** Built and approved once, then the spec edited and rebuilt: the plan awaits review again, changed. */
async function regenerated(approvedPlan = PLAN): Promise<{ p: TestProject; held: SpxResult }> {
  const p = project();
  fake.enqueue({ answer: SPEC_ANSWER }, { answer: approvedPlan });
  await spx(p, ['build', '--approve'], 0);
  p.write('USER-SPEC.md', '# Words\n\nCount the words and the lines of a file.\n');
  fake.enqueue({ answer: '# Spec\n\nCount words and lines.\n' }, { answer: PLAN.replace('3. Print the count.', '3. Count the lines too.\n4. Print both counts.') });
  const held = await spx(p, ['build'], 3);
  return { p, held };
}

describe('spx diff', () => {
  it('shows, after a spec edit, the lines the regenerated plan removed and added against the approved one', async () => {
    const { p, held } = await regenerated();
    // At the gate: the counts, and the command that shows the diff.
    expect(held.stderr).toContain('spx: review AI-PLAN.md (+2 −1 lines since approved: spx diff plan)');
    const diff = await spx(p, ['diff', 'plan'], 0);
    expect(diff.stdout).toContain('--- approved/AI-PLAN.md\n+++ now/AI-PLAN.md');
    expect(diff.stdout).toContain('\n-3. Print the count.\n+3. Count the lines too.\n+4. Print both counts.\n');
    expect(diff.stdout).not.toContain('\u001b[');
    expect(fake.calls).toBe(4);
  });

  it("compares with what the reviewer approved, edits included, which no cache entry holds", async () => {
    const p = project();
    fake.enqueue({ answer: SPEC_ANSWER }, { answer: PLAN });
    await spx(p, ['build'], 3);
    p.write('AI-PLAN.md', PLAN.replace('2. Split on spaces.', '2. Split on any whitespace.'));
    await spx(p, ['approve', 'plan'], 0);
    expect((await spx(p, ['diff', 'plan'], 0)).stdout).toBe('AI-PLAN.md (plan): unchanged since it was approved\n');
    p.write('USER-SPEC.md', '# Words\n\nCount the words of a file, fast.\n');
    fake.enqueue({ answer: '# Spec\n\nFast.\n' }, { answer: PLAN });
    await spx(p, ['build'], 3);
    const diff = await spx(p, ['diff', 'plan'], 0);
    expect(diff.stdout).toContain('\n-2. Split on any whitespace.\n+2. Split on spaces.\n');
  });

  it('keeps the approved bytes through a cache prune, and says plainly when they are not available', async () => {
    const { p } = await regenerated();
    await spx(p, ['cache', 'prune', '--max-age', '0m'], 0);
    expect((await spx(p, ['diff', 'plan'], 0)).stdout).toContain('+4. Print both counts.');
    await rm(p.path('.spx/cache'), { recursive: true });
    const missing = await spx(p, ['diff', 'plan'], 1);
    expect(missing.stderr).toMatch(/the approved version of AI-PLAN\.md \(plan, [0-9a-f]{12}\) is not in the cache at .*: it was approved on another machine, or the cache was cleared/);
    expect(missing.stderr).not.toMatch(/\n\s+at /);
    // Without the bytes, the gate still says what to do.
    fake.enqueue({ answer: '# Spec\n\nAgain.\n' }, { answer: `${PLAN}5. Done.\n` });
    p.write('USER-SPEC.md', '# Words\n\nAgain.\n');
    const held = await spx(p, ['build'], 3);
    expect(held.stderr).toContain('spx: review AI-PLAN.md, then run: spx approve plan');
  });

  it('refuses a node without a review gate, and names a plan never approved', async () => {
    const p = project();
    fake.enqueue({ answer: SPEC_ANSWER }, { answer: PLAN });
    await spx(p, ['build'], 3);
    expect((await spx(p, ['diff', 'spec'], 2)).stderr).toContain('node "spec" has no review gate');
    expect((await spx(p, ['diff', 'plan'], 1)).stderr).toContain('AI-PLAN.md (plan) has no approved version recorded');
  });
});
