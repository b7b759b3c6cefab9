import { readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupAgents, git, StandInAgent } from './helpers/agents.js';
import { cleanupProjects, createProject, TestProject, type SpxResult } from './helpers/project.js';

const clones: string[] = [];

afterEach(async () => {
  await cleanupProjects();
  cleanupAgents();
  for (const dir of clones.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function expectCode(result: SpxResult, code: number): void {
  expect(result.code, result.stdout + result.stderr).toBe(code);
}

/** The files below .spx/backups/, relative to it. */
function backups(project: TestProject): string[] {
  if (!project.exists('.spx/backups')) return [];
  return (readdirSync(project.path('.spx/backups'), { recursive: true, withFileTypes: true }) as import('node:fs').Dirent[])
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(project.path('.spx/backups'), path.join(entry.parentPath, entry.name)))
    .sort();
}

const TWO_OUTPUTS = `version: 1
nodes:
  notes:
    kind: run
    command: echo notes >> runs.log && echo generated > notes.md && echo generated > kept.md
    outputs: [notes.md, kept.md]
`;

describe('spx clean keeps hand edits', () => {
  it('backs up an output edited by hand, says where, and removes an unedited one without a copy', async () => {
    const project = createProject({}, TWO_OUTPUTS);
    expectCode(await project.spx(['build']), 0);
    project.write('notes.md', 'a reviewer edit\n');

    const dry = await project.spx(['clean', '--dry-run']);
    expectCode(dry, 0);
    expect(dry.stdout).toContain('would back up notes.md (notes)');
    expect(dry.stdout).not.toContain('would back up kept.md');
    expect(backups(project)).toEqual([]);

    const clean = await project.spx(['clean']);
    expectCode(clean, 0);
    const [backup, ...others] = backups(project);
    expect(others).toEqual([]);
    expect(backup).toMatch(/^notes\/[^/]+\/notes\.md$/);
    expect(clean.stdout).toContain(`backed up notes.md (notes) to .spx/backups/${backup}`);
    expect(project.read(`.spx/backups/${backup}`)).toBe('a reviewer edit\n');
    expect(project.exists('notes.md')).toBe(false);
    expect(project.exists('kept.md')).toBe(false);
  });

  it('backs up a file that was at an output path before the node was ever built', async () => {
    const project = createProject({ 'notes.md': 'written by hand\n' }, TWO_OUTPUTS);
    const clean = await project.spx(['clean']);
    expectCode(clean, 0);
    expect(backups(project)).toEqual([expect.stringMatching(/^notes\/[^/]+\/notes\.md$/)]);
    expect(clean.stdout).toContain('backed up notes.md (notes) to .spx/backups/notes/');
  });
});

describe('spx init --force keeps an edited USER-SPEC.md', () => {
  it('copies the edited USER-SPEC.md aside and says where; the unedited template is replaced without a copy', async () => {
    const project = createProject({});
    expectCode(await project.spx(['init']), 0);
    const again = await project.spx(['init', '--force']);
    expectCode(again, 0);
    expect(again.stdout).not.toContain('kept your edited USER-SPEC.md');
    expect(backups(project)).toEqual([]);

    project.write('USER-SPEC.md', '# My feature\n\nWhat I want, at length.\n');
    const forced = await project.spx(['init', '--force']);
    expectCode(forced, 0);
    const [backup, ...others] = backups(project);
    expect(others).toEqual([]);
    expect(forced.stdout).toContain(`kept your edited USER-SPEC.md in .spx/backups/${backup}`);
    expect(project.read(`.spx/backups/${backup}`)).toBe('# My feature\n\nWhat I want, at length.\n');
    expect(project.read('USER-SPEC.md')).toContain('## Goal');
  });
});

const PLAN_STEP = 'PLAN-STEP-c10e: create src/b.js exporting b = 2.';

/** The shipped pipeline, offline: spec and plan on echo, its execute node on the stand-in claude, verified by npm test. */
const CARRIED_OUT = `version: 1
extends: spec-plan-execute
defaults: { provider: rehearse, agent: claude }
nodes:
  context:
    kind: run
    command: cat src/*.js > context.txt
    inputs: ["src/**"]
    outputs: [context.txt]
  plan:
    kind: plan
    prompt: "${PLAN_STEP}"
    needs: [spec]
    uses: [context]
    output: AI-PLAN.md
`;

const PROJECT_FILES: Record<string, string> = {
  '.gitignore': '.spx/\ncontext.txt\n',
  'USER-SPEC.md': '# Feature\n\nExport b = 2 from src/b.js.\n',
  'src/a.js': 'exports.a = 1;\n',
  'package.json': '{ "scripts": { "test": "node check.js" } }\n',
  'check.js': "const { b } = require('./src/b.js');\nif (b !== 2) process.exit(1);\n",
};

describe('a fresh clone of a carried-out project', () => {
  it('runs no agent and changes nothing in the tree', async () => {
    const project = createProject(PROJECT_FILES, CARRIED_OUT);
    git(project.dir, 'init', '-q');
    git(project.dir, 'add', '-A');
    git(project.dir, 'commit', '-q', '-m', 'initial');
    const agent = new StandInAgent({ edits: [{ 'src/b.js': 'exports.b = 2;\n' }] });
    expectCode(await project.spx(['build', '--approve'], { env: agent.env() }), 0);
    expect(agent.calls()).toHaveLength(1);
    const [patch] = Object.keys(project.lock().nodes.execute!.outputs);
    expect(project.read(patch!)).toContain('+exports.b = 2;');
    // The change made the bundle stale: a second build brings it up to date, and only it.
    expectCode(await project.spx(['build'], { env: agent.env() }), 0);
    expect(agent.calls()).toHaveLength(1);
    git(project.dir, 'add', '-A');
    git(project.dir, 'commit', '-q', '-m', 'carried out');

    const clone = mkdtempSync(path.join(os.tmpdir(), 'spx-clone-'));
    clones.push(clone);
    git(clone, 'clone', '-q', project.dir, 'work');
    const work = new TestProject(path.join(clone, 'work'));
    const cloneAgent = new StandInAgent({ edits: [{ 'src/b.js': 'exports.b = 3;\n' }] });
    const build = await work.spx(['build'], { env: cloneAgent.env() });
    expectCode(build, 0);
    expect(cloneAgent.calls()).toEqual([]);
    // The bundle is rebuilt (it is ignored); nothing committed changes, nothing is applied twice.
    expect(git(work.dir, 'status', '--porcelain', '--untracked-files=all')).toBe('');
    expect(work.read('src/b.js')).toBe('exports.b = 2;\n');
    // What is in the repository was generated from these inputs and approved: CI can prove it, with no key.
    const check = await work.spx(['check'], { env: { ...cloneAgent.env(), GEMINI_API_KEY: undefined } });
    expectCode(check, 0);
    expect(cloneAgent.calls()).toEqual([]);
  });
});

const IGNORED_SPEC = `version: 1
defaults: { provider: echo }
nodes:
  spec:
    kind: spec
    prompt: "Clarify the feature request."
    inputs: [USER-SPEC.md]
    output: drafts/AI-SPEC.md
  bundle:
    kind: run
    command: echo bundle > .spx-bundle.txt
    outputs: [.spx-bundle.txt]
`;

describe('an output a fresh clone would lack', () => {
  it('validate and build warn, once, when a model node writes into an ignored path while spx.lock is committed', async () => {
    const project = createProject({ '.gitignore': '.spx/\ndrafts/\n.spx-bundle.txt\n', 'USER-SPEC.md': '# Feature\n' }, IGNORED_SPEC);
    git(project.dir, 'init', '-q');
    const warning = 'spec: its output drafts/AI-SPEC.md lies in a path git ignores while spx.lock is committed';
    // Nothing is shared yet: no warning.
    const first = await project.spx(['build']);
    expectCode(first, 0);
    expect(first.stdout).not.toContain('git ignores');
    expect((await project.spx(['validate'])).stdout).not.toContain('git ignores');

    git(project.dir, 'add', '-A');
    git(project.dir, 'commit', '-q', '-m', 'built');
    const validate = await project.spx(['validate']);
    expectCode(validate, 0);
    expect(validate.stdout).toContain(`warning: ${warning}`);
    // A run node's ignored output is remade for free in a clone: no warning for it.
    expect(validate.stdout).not.toContain('bundle');

    const build = await project.spx(['build']);
    expectCode(build, 0);
    expect(build.stdout).toContain(`! ${warning}`);
    expect(build.stdout.split('git ignores')).toHaveLength(2);
    const again = await project.spx(['build']);
    expectCode(again, 0);
    expect(again.stdout).not.toContain('git ignores');
  });
});
