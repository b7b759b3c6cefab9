import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupAgents, git, StandInAgent } from './helpers/agents.js';
import { cleanupCacheDirs, tempDir } from './helpers/cache.js';
import { cleanupProjects, createProject, statusOf, type SpxResult, type TestProject } from './helpers/project.js';

afterEach(async () => {
  await cleanupProjects();
  cleanupAgents();
  cleanupCacheDirs();
});

/** Each test builds three repomix bundles and runs an agent, several times: minutes on a busy machine. */
const SLOW = 180_000;

/** Markers that say which file's content reached a prompt. */
const MATH = 'export const MATH_MARKER_5d1 = (a: number, b: number) => a + b;\n';
const OTHER = 'export const OTHER_MARKER_9c2 = "not named by the plan";\n';

const FILES: Record<string, string> = {
  '.gitignore': '.spx/\n',
  'USER-SPEC.md': '# Feature\n\nAdd a subtract function.\n',
  'package.json': '{ "name": "shapes", "private": true, "scripts": { "test": "node -e 0" } }\n',
  'src/math.ts': MATH,
  'src/other.ts': OTHER,
};

/**
 * The shipped spec-plan-execute pipeline as a project uses it: its spec and
 * plan answered offline (echo, or `model`), its agent the stand-in `claude`;
 * `nodes` (YAML indented by two spaces) replaces some of its nodes.
 */
function shippedProject(nodes = '', files: Record<string, string> = {}, model = '  gemini: { type: echo }'): TestProject {
  const yaml = ['version: 1', 'extends: spec-plan-execute', 'providers:', model, ...(nodes === '' ? [] : ['nodes:', nodes]), ''].join('\n');
  const project = createProject({ ...FILES, ...files }, yaml);
  git(project.dir, 'init', '-q');
  git(project.dir, 'add', '-A');
  git(project.dir, 'commit', '-q', '-m', 'initial');
  return project;
}

/** Builds to the review gate, replaces the plan with `plan` (a reviewer's edit), approves it. */
async function approvePlan(project: TestProject, agent: StandInAgent, plan: string): Promise<void> {
  const first = await project.spx(['build'], { env: agent.env() });
  expect(first.code, printed(first)).toBe(3);
  project.write('AI-PLAN.md', plan);
  const approved = await project.spx(['approve', 'plan']);
  expect(approved.code, printed(approved)).toBe(0);
}

function printed(result: SpxResult): string {
  return result.stdout + result.stderr;
}

/** The replaced execute node: the shipped one with `extra` settings (YAML indented by four spaces). */
function executeWith(extra: string): string {
  return ['  execute:', '    kind: execute', '    needs: [plan]', '    uses: [plan-files]', '    verify: ["npm test"]', '    output: AI-PLAN.patch', extra].join('\n');
}

describe('the shipped pipeline gives the agent the files the approved plan names', { timeout: SLOW }, () => {
  it('after a plan naming src/math.ts is approved, the agent is given its content and not that of files the plan does not name', async () => {
    const project = shippedProject();
    const agent = new StandInAgent();
    await approvePlan(project, agent, '# Plan\n\n1. In `src/math.ts`, add `subtract` beside the existing function.\n');

    const result = await project.spx(['build'], { env: agent.env() });
    expect(result.code, printed(result)).toBe(0);
    const calls = agent.calls();
    expect(calls).toHaveLength(1);
    const prompt = calls[0]!.prompt;
    expect(prompt).toContain('add `subtract` beside the existing function');
    expect(prompt).toContain('uses plan-files: .spx/context/plan-files.xml');
    expect(prompt).toContain('MATH_MARKER_5d1');
    expect(prompt).not.toContain('OTHER_MARKER_9c2');
    // The instruction says the bundle holds the named files, current.
    expect(prompt).toContain('it holds their current content');
    // No effort phrase unless the node opts in.
    expect(prompt).not.toMatch(/think/i);
  });

  it('a plan naming a file that does not exist: one warning names it, and the bundle holds the files that do', async () => {
    const project = shippedProject();
    const agent = new StandInAgent();
    await approvePlan(project, agent, '# Plan\n\n1. Create `src/subtract.ts`.\n2. Re-export it from src/math.ts.\n');

    const result = await project.spx(['build'], { env: agent.env() });
    expect(result.code, printed(result)).toBe(0);
    expect(printed(result)).toContain(
      'plan-files: plan names a file that does not exist (new files it will create, or a wrong path); the bundle holds the others: src/subtract.ts',
    );
    const prompt = agent.calls()[0]!.prompt;
    expect(prompt).toContain('MATH_MARKER_5d1');
    expect(prompt).not.toContain('OTHER_MARKER_9c2');
    expect((project.lock().nodes['plan-files'] as unknown as { metrics: Record<string, number> }).metrics).toMatchObject({ files: 1 });
  });

  it('a plan-files bundle over its budget fails before the agent starts, naming the largest files', async () => {
    const big = `export const table = [\n${Array.from({ length: 400 }, (_, i) => `  "row ${i} of a generated table",`).join('\n')}\n];\n`;
    const planFiles = ['  plan-files:', '    kind: context', '    files: { fromOutput: plan }', '    maxTokens: 300'].join('\n');
    const project = shippedProject(planFiles, { 'src/big.ts': big });
    const agent = new StandInAgent();
    await approvePlan(project, agent, '# Plan\n\n1. Shrink src/big.ts.\n2. Use it in src/math.ts.\n');

    const result = await project.spx(['build'], { env: agent.env() });
    expect(result.code, printed(result)).toBe(1);
    expect(result.stdout).toMatch(/✗ plan-files: the bundle has [\d,]+ tokens, over maxTokens \(300\); largest files:\n {4}src\/big\.ts: [\d,]+ tokens\n {4}src\/math\.ts: \d+ tokens\n/);
    expect(result.stdout).toContain('split the work into smaller plans (plan names these files)');
    expect(printed(result)).toMatch(/execute skipped/);
    expect(agent.calls()).toEqual([]);
    expect(project.exists('.spx/context/plan-files.xml')).toBe(false);
  });
});

describe('the shipped pipeline gives the plan what the spec concerns', { timeout: SLOW }, () => {
  it('the plan reads the files the spec names, the files holding its identifiers, the tests and the manifests; not the rest', async () => {
    const answers = tempDir();
    // The model's spec names src/math.ts by path and parseFlags in backticks, as a real spec does.
    writeFileSync(path.join(answers, 'spec.md'), '# Spec\n\n## Current behaviour\n\n`src/math.ts` adds; `parseFlags` reads the options.\n');
    const project = shippedProject(
      '',
      {
        'src/flags.ts': 'export function parseFlags() { return "FLAGS_MARKER_77e"; }\n',
        'test/math.test.ts': 'import "../src/math"; // TEST_MARKER_3aa\n',
      },
      `  gemini: { type: command, command: [sh, -c, "cat > /dev/null; cat '${answers}/spec.md'"] }`,
    );
    const result = await project.spx(['build']);
    expect(result.code, printed(result)).toBe(3);
    const prompt = project.read('.spx/prompts/plan.md');
    expect(prompt).toContain('uses plan-context: .spx/context/plan-context.xml');
    for (const marker of ['MATH_MARKER_5d1', 'FLAGS_MARKER_77e', 'TEST_MARKER_3aa', '"name": "shapes"']) expect(prompt).toContain(marker);
    expect(prompt).not.toContain('OTHER_MARKER_9c2');
    // The spec read the whole codebase.
    expect(project.read('.spx/prompts/spec.md')).toContain('OTHER_MARKER_9c2');
  });
});

describe('effort and parallelAgents on an execute node', { timeout: SLOW }, () => {
  it("adds Claude Code's phrasing to the prompt, and changing it makes execute stale", async () => {
    const project = shippedProject(executeWith('    effort: think-hard\n    parallelAgents: true'));
    const agent = new StandInAgent();
    await approvePlan(project, agent, '# Plan\n\n1. Edit src/math.ts.\n');

    const result = await project.spx(['build'], { env: agent.env() });
    expect(result.code, printed(result)).toBe(0);
    const prompt = agent.calls()[0]!.prompt;
    expect(prompt).toContain('Think hard before each step.');
    expect(prompt).toContain('Use multiple agents');
    expect(prompt).not.toContain('Ultrathink');
    expect((await statusOf(project, { env: agent.env() }))['execute']!.state).toBe('fresh');

    project.writeConfig(project.read('spx.yaml').replace('effort: think-hard', 'effort: ultrathink'));
    const status = await statusOf(project, { env: agent.env() });
    expect(status['execute']).toMatchObject({ state: 'stale', reasons: [expect.stringContaining('effort')] });

    const again = await project.spx(['build'], { env: agent.env() });
    expect(again.code, printed(again)).toBe(0);
    expect(agent.calls()).toHaveLength(2);
    expect(agent.calls()[1]!.prompt).toContain('Ultrathink: reason through each step');

    project.writeConfig(project.read('spx.yaml').replace('    parallelAgents: true\n', ''));
    expect((await statusOf(project, { env: agent.env() }))['execute']!.state).toBe('stale');
  });

  it('an unknown effort is a schema error naming the values', async () => {
    const project = shippedProject(executeWith('    effort: very-hard'));
    const result = await project.spx(['validate']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/spx\.yaml:\d+:\d+: .*think, think-hard, think-harder, ultrathink/);
  });
});
