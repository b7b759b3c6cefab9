import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cleanupCacheDirs, cloneProject, commitAll, tempDir } from './helpers/cache.js';
import { FakeGemini } from './helpers/fake-gemini.js';
import { cleanupProjects, createProject, REPO_ROOT, type TestProject } from './helpers/project.js';

/**
 * docs/ci.md's GitHub Actions workflow, run as written: its `run:` steps
 * in bash in a fresh clone, its `if:` conditions evaluated for a push to
 * main or a pull request. What needs GitHub is replaced at the edge: the
 * actions/cache steps copy a directory to and from a store standing for
 * GitHub's cache, and `npm ci` links this checkout of spx where the
 * registry's would be installed.
 */
interface Step {
  uses?: string;
  run?: string;
  if?: string;
  env?: Record<string, string>;
  with?: { path?: string; key?: string };
}

type Event = 'push' | 'pull_request';

interface WorkflowRun {
  /** The `run:` of the step that failed, if one did (later steps are then not run, as on GitHub). */
  failed?: string;
  /** Each run step's command and what it printed. */
  log: { run: string; stdout: string; stderr: string }[];
}

/** Each workflow run starts a few spx and npx processes, some packing a context with repomix. */
const WORKFLOW_TIMEOUT_MS = 300_000;

let fake: FakeGemini;
const KEY = `test-key-${randomBytes(8).toString('hex')}`;

beforeEach(async () => {
  fake = new FakeGemini();
  await fake.start();
  fake.fallback = { status: 500, message: 'the test queued too few answers' };
});

afterEach(async () => {
  await cleanupProjects();
  cleanupCacheDirs();
  await fake.stop();
});

function workflowSteps(): Step[] {
  const doc = readFileSync(path.join(REPO_ROOT, 'docs/ci.md'), 'utf8');
  const block = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)].map((match) => match[1]!).find((text) => text.includes('jobs:'));
  expect(block, 'docs/ci.md has a yaml block with the workflow').toBeDefined();
  const workflow = parse(block!) as { jobs: Record<string, { steps: Step[] }> };
  return Object.values(workflow.jobs)[0]!.steps;
}

/** The only conditions the recipe uses; another fails the test rather than being guessed at. */
function holds(condition: string | undefined, event: Event): boolean {
  if (condition === undefined) return true;
  const match = /^github\.event_name == '(push|pull_request)'$/.exec(condition.trim());
  if (!match) throw new Error(`ci-recipe.test.ts cannot evaluate "if: ${condition}"`);
  return match[1] === event;
}

/** GitHub's `${{ secrets.NAME }}` in a step's env: the only expression a run step's env uses. */
function expand(value: string, secrets: Record<string, string>): string {
  return value.replace(/\$\{\{\s*secrets\.(\w+)\s*\}\}/g, (_whole, name: string) => secrets[name] ?? '');
}

/** Where `npm ci` puts the registry's spx (package-lock.json pins it): this checkout, built, stands in for it. */
function installSpx(clone: TestProject): void {
  const manifest = JSON.parse(clone.read('package.json')) as { devDependencies?: Record<string, string> };
  expect(manifest.devDependencies?.spx, 'spx is a devDependency from the registry').toMatch(/^\^\d/);
  mkdirSync(clone.path('node_modules/.bin'), { recursive: true });
  symlinkSync(REPO_ROOT, clone.path('node_modules/spx'));
  symlinkSync('../spx/bin/spx.js', clone.path('node_modules/.bin/spx'));
}

function bash(command: string, cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    // -e, as GitHub runs a multi-line run step (bash -e {0}).
    const child = spawn('bash', ['-e', '-c', command], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** One run of the workflow on a fresh clone of `repository`; `store` is GitHub's cache, one directory per key. */
async function runWorkflow(repository: TestProject, event: Event, store: string): Promise<WorkflowRun> {
  const log: WorkflowRun['log'] = [];
  let clone: TestProject | undefined;
  const env: NodeJS.ProcessEnv = { ...process.env, CI: 'true', GITHUB_ACTIONS: 'true', npm_config_offline: 'true' };
  delete env.SPX_CACHE_DIR;
  delete env.GEMINI_API_KEY;
  for (const step of workflowSteps()) {
    if (!holds(step.if, event)) continue;
    if (step.uses?.startsWith('actions/checkout@')) clone = cloneProject(repository);
    else if (step.uses?.startsWith('actions/setup-node@')) continue;
    else if (step.uses?.startsWith('actions/cache/restore@')) restoreCache(store, clone!.path(step.with!.path!));
    else if (step.uses?.startsWith('actions/cache/save@')) saveCache(store, clone!.path(step.with!.path!));
    else if (step.run?.trim() === 'npm ci') installSpx(clone!);
    else if (step.run !== undefined) {
      const stepEnv = Object.fromEntries(Object.entries(step.env ?? {}).map(([name, value]) => [name, expand(value, { GEMINI_API_KEY: KEY })]));
      const result = await bash(step.run, clone!.dir, { ...env, ...stepEnv });
      log.push({ run: step.run, stdout: result.stdout, stderr: result.stderr });
      if (result.code !== 0) return { failed: step.run.trim(), log };
    } else throw new Error(`ci-recipe.test.ts does not know the step ${JSON.stringify(step)}`);
  }
  return { log };
}

/** The newest saved entry, as restore-keys' prefix finds it; nothing on the first run. */
function restoreCache(store: string, target: string): void {
  const saved = existsSync(store) ? readdirSync(store).sort() : [];
  if (saved.length > 0) cpSync(path.join(store, saved.at(-1)!), target, { recursive: true });
}

function saveCache(store: string, source: string): void {
  const entry = path.join(store, String(readdirSync(store).length).padStart(4, '0'));
  cpSync(source, entry, { recursive: true });
}

function printed(run: WorkflowRun): string {
  return run.log.map((step) => `$ ${step.run}\n${step.stdout}${step.stderr}`).join('\n');
}

function output(run: WorkflowRun, command: string): string {
  const step = run.log.find((entry) => entry.run.trim() === command);
  expect(step, `the step "${command}" ran:\n${printed(run)}`).toBeDefined();
  return step!.stdout + step!.stderr;
}

/**
 * A repository as a developer pushes it: the spec built locally (one model
 * call) and committed with spx.lock; the context bundle and the test
 * report, kept out of git, are left for CI to remake or restore.
 */
async function developersRepository(): Promise<TestProject> {
  const project = createProject(
    {
      'package.json': JSON.stringify({ name: 'word-count', private: true, devDependencies: { spx: '^0.1.0' } }, null, 2) + '\n',
      '.gitignore': '.spx/\nbuild/\nnode_modules/\n',
      'USER-SPEC.md': '# Words\n\nCount the words of a file.\n',
      'src/count.sh': 'wc -w "$1"\n',
    },
    `version: 1
providers:
  gemini: { type: gemini, model: gemini-test, baseUrl: "${fake.url}", retries: 0 }
defaults: { provider: gemini }
nodes:
  context: { kind: context, files: { include: ["src/**"] } }
  spec: { kind: spec, inputs: [USER-SPEC.md], output: AI-SPEC.md }
  test:
    kind: run
    command: mkdir -p build && sh src/count.sh USER-SPEC.md > build/report.txt
    inputs: ["src/**", USER-SPEC.md]
    outputs: [build/report.txt]
`,
  );
  fake.enqueue({ answer: '# Spec\n\nCount words.\n' });
  const local = await project.spx(['build'], { env: { GEMINI_API_KEY: KEY } });
  expect(local.code, local.stdout + local.stderr).toBe(0);
  expect(fake.calls).toBe(1);
  commitAll(project, 'the spec, built locally');
  return project;
}

describe('the CI recipe of docs/ci.md', () => {
  it('tells the user to install spx from the registry, as a devDependency', () => {
    const doc = readFileSync(path.join(REPO_ROOT, 'docs/ci.md'), 'utf8');
    expect(doc).toContain('npm install --save-dev spx');
    expect(doc).not.toMatch(/file:/);
  });

  it('main fills the cache; a pull request restores it, runs its run and context nodes, and calls no model', async () => {
    const repository = await developersRepository();
    const store = tempDir('spx-actions-cache-');

    const main = await runWorkflow(repository, 'push', store);
    expect(main.failed, printed(main)).toBeUndefined();
    expect(output(main, 'npx spx build --approve')).toMatch(/spx: 2 ran, 1 fresh/);
    expect(readdirSync(store)).toHaveLength(1);

    // The same commit as a pull request: what main built comes from the cache.
    const unchanged = await runWorkflow(repository, 'pull_request', store);
    expect(unchanged.failed, printed(unchanged)).toBeUndefined();
    const restored = output(unchanged, 'npx spx build --cache-only');
    expect(restored).toMatch(/^↺ context restored from cache/m);
    expect(restored).toMatch(/^↺ test restored from cache/m);
    expect(unchanged.log.map((step) => step.run.trim())).not.toContain('npx spx build --approve');

    // A pull request that changes the code: its context and its tests run, no model is called.
    repository.write('src/count.sh', 'wc -w < "$1"\n');
    commitAll(repository, 'count without the file name');
    const changed = await runWorkflow(repository, 'pull_request', store);
    expect(changed.failed, printed(changed)).toBeUndefined();
    const ran = output(changed, 'npx spx build --cache-only');
    expect(ran).toMatch(/^✓ context \(/m);
    expect(ran).toMatch(/^✓ test \(/m);
    expect(ran).toMatch(/spx: 2 ran, 1 fresh/);
    expect(output(changed, 'npx spx check')).not.toMatch(/stale/);
    expect(fake.calls).toBe(1);
  }, WORKFLOW_TIMEOUT_MS);

  it('a pull request whose spec was not rebuilt fails at the build, naming the node, without a model call; the run node still runs', async () => {
    const repository = await developersRepository();
    const store = tempDir('spx-actions-cache-');
    expect((await runWorkflow(repository, 'push', store)).failed).toBeUndefined();

    repository.write('USER-SPEC.md', '# Words\n\nCount the words and the lines of a file.\n');
    commitAll(repository, 'a new requirement, spec not rebuilt');
    const pr = await runWorkflow(repository, 'pull_request', store);

    expect(pr.failed, printed(pr)).toBe('npx spx build --cache-only');
    const said = output(pr, 'npx spx build --cache-only');
    expect(said).toContain('spx: --cache-only: not in the cache, so these would need a model or an agent: spec');
    expect(said).toMatch(/^✗ spec: not in the cache, and --cache-only forbids calling a model or an agent$/m);
    expect(said).toMatch(/^✓ test \(/m);
    expect(fake.calls).toBe(1);
  }, WORKFLOW_TIMEOUT_MS);
});
