import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { pipelineNames } from '../src/config/pipelines.js';
import { cleanupProjects, createProject, REPO_ROOT, type SpxResult, type TestProject } from './helpers/project.js';

afterEach(cleanupProjects);

/** An empty git repository, as a new user has before `spx init`. */
function emptyRepo(files: Record<string, string> = {}): TestProject {
  const project = createProject(files);
  const git = spawnSync('git', ['init', '-q'], { cwd: project.dir, encoding: 'utf8' });
  expect(git.status, git.stderr).toBe(0);
  return project;
}

function expectCode(result: SpxResult, code: number): void {
  expect(result.code, result.stdout + result.stderr).toBe(code);
}


function shipped(name: string): string {
  return readFileSync(path.join(REPO_ROOT, 'pipelines', `${name}.yaml`), 'utf8');
}

describe('spx init', () => {
  it('in an empty git repository writes spx.yaml, USER-SPEC.md and .gitignore; a rehearsal then stops at the review gate', async () => {
    const p = emptyRepo({ 'src/greet.js': 'export const greet = (name) => `Hello, ${name}!`;\n' });
    const init = await p.spx(['init']);
    expectCode(init, 0);
    expect(init.stdout).toContain('wrote spx.yaml and USER-SPEC.md (the spec-plan-execute pipeline)');
    expect(init.stdout + init.stderr).not.toContain('not a git repository');
    // The next steps: rehearse, keys and programs for real, review and approve.
    for (const step of ['spx build --provider rehearse', 'exit code 3', 'export GEMINI_API_KEY=', 'put claude (Claude Code) on your PATH', 'Review AI-PLAN.md', 'spx approve plan']) {
      expect(init.stdout).toContain(step);
    }

    const yaml = p.read('spx.yaml');
    expect(yaml.split('\n')[0]).toBe('# yaml-language-server: $schema=./node_modules/spx/schema/spx.schema.json');
    // The rest is the shipped pipeline, below a line saying where it came from.
    expect(yaml).toContain(shipped('spec-plan-execute').split('\n').slice(1).join('\n'));
    const spec = p.read('USER-SPEC.md');
    for (const section of ['## Goal', '## Context', '## Requirements', '## Constraints', '## Acceptance']) expect(spec).toContain(section);
    expect(p.read('.gitignore')).toMatch(/^\.spx\/$/m);

    const build = await p.spx(['build', '--provider', 'echo']);
    expectCode(build, 3);
    expect(build.stdout).toMatch(/⏸ plan: AI-PLAN\.md awaits review/);
    expect(build.stdout).toMatch(/- execute skipped: "plan" awaits review/);
    expect(build.stderr).toContain('spx approve plan');
    expect(p.read('AI-PLAN.md')).toContain('offline rehearsal. No model was called; this is not a real answer.');
    expect(p.read('AI-SPEC.md')).toContain('offline rehearsal');

    expectCode(await p.spx(['approve', 'plan']), 0);
  });

  it('--provider rehearse, the offline provider each pipeline declares, reaches the review gate too', async () => {
    const p = emptyRepo();
    expectCode(await p.spx(['init', '--pipeline', 'plan-only']), 0);
    expectCode(await p.spx(['build', '--provider', 'rehearse']), 3);
    expect(p.read('AI-PLAN.md')).toContain('offline rehearsal');
  });

  for (const existing of ['spx.yaml', 'USER-SPEC.md']) {
    it(`refuses to overwrite an existing ${existing}, exits 2 naming it, and writes nothing`, async () => {
      const p = emptyRepo({ [existing]: 'mine\n' });
      const result = await p.spx(['init']);
      expectCode(result, 2);
      expect(result.stderr).toContain(`${existing} already exists: spx init will not overwrite it (spx init --force replaces it)`);
      expect(result.stderr).not.toMatch(/^\s+at /m);
      expect(p.read(existing)).toBe('mine\n');
      for (const other of ['spx.yaml', 'USER-SPEC.md', '.gitignore'].filter((file) => file !== existing)) expect(p.exists(other)).toBe(false);
    });
  }

  it('--force overwrites both files, and the .spx/ line is not added twice', async () => {
    const p = emptyRepo({ 'spx.yaml': 'mine\n', 'USER-SPEC.md': 'mine\n' });
    expectCode(await p.spx(['init', '--force']), 0);
    expectCode(await p.spx(['init', '--force', '--pipeline', 'plan-only']), 0);
    expect(p.read('spx.yaml')).toContain(shipped('plan-only').split('\n').slice(1).join('\n'));
    expect(p.read('USER-SPEC.md')).toContain('## Goal');
    expect(p.read('.gitignore').match(/^\.spx\/$/gm)).toHaveLength(1);
    expectCode(await p.spx(['validate']), 0);
  });

  for (const name of pipelineNames()) {
    it(`--pipeline ${name} writes that pipeline, which validates and rehearses up to its review gate`, async () => {
      const p = emptyRepo({ 'src/a.js': 'export const a = 1;\n' });
      const init = await p.spx(['init', '--pipeline', name]);
      expectCode(init, 0);
      expect(init.stdout).toContain(`(the ${name} pipeline)`);
      expect(p.read('spx.yaml')).toContain(shipped(name).split('\n').slice(1).join('\n'));
      expectCode(await p.spx(['validate']), 0);
      // A pipeline of features has none until spx new makes one.
      const features = p.read('spx.yaml').includes('foreach:');
      if (features) expectCode(await p.spx(['new', 'first']), 0);
      const build = await p.spx(['build', '--provider', 'echo']);
      expectCode(build, 3);
      expect(p.read(features ? 'features/first/AI-PLAN.md' : 'AI-PLAN.md')).toContain('offline rehearsal');
      expect(p.exists('USER-SPEC.md')).toBe(!features);
    });
  }

  it('refuses an unknown pipeline with exit 2, listing the pipelines spx ships, and writes nothing', async () => {
    const p = emptyRepo();
    const result = await p.spx(['init', '--pipeline', 'spec-plan']);
    expectCode(result, 2);
    expect(result.stderr).toContain(`unknown pipeline "spec-plan"; spx ships: ${pipelineNames().join(', ')}`);
    for (const file of ['spx.yaml', 'USER-SPEC.md', '.gitignore']) expect(p.exists(file)).toBe(false);
  });

  describe('.gitignore', () => {
    it('is appended to, on a line of its own, when its last line has no newline', async () => {
      const p = emptyRepo({ '.gitignore': 'node_modules/\ndist' });
      expectCode(await p.spx(['init']), 0);
      expect(p.read('.gitignore')).toMatch(/^node_modules\/\ndist\n# .*\n\.spx\/\n$/);
    });

    for (const line of ['.spx', '/.spx/', '.spx/']) {
      it(`is left alone when it already ignores the state directory as "${line}"`, async () => {
        const gitignore = `node_modules/\n${line}\n`;
        const p = emptyRepo({ '.gitignore': gitignore });
        const result = await p.spx(['init']);
        expectCode(result, 0);
        expect(result.stdout).toContain('.gitignore already ignores .spx/');
        expect(p.read('.gitignore')).toBe(gitignore);
      });
    }
  });

  describe('the schema line of spx.yaml', () => {
    it('points at the schema of the spx installed in node_modules, by a relative path, from the project or a package below it', async () => {
      const installed = { 'node_modules/spx/schema/spx.schema.json': '{}\n' };
      const p = emptyRepo(installed);
      expectCode(await p.spx(['init']), 0);
      expect(p.read('spx.yaml').split('\n')[0]).toBe('# yaml-language-server: $schema=./node_modules/spx/schema/spx.schema.json');

      expectCode(await p.spx(['init', '-C', 'packages/app']), 0);
      expect(p.read('packages/app/spx.yaml').split('\n')[0]).toBe('# yaml-language-server: $schema=../../node_modules/spx/schema/spx.schema.json');
    });

    it('points where a local install will put the schema when the project has none installed, never at an absolute path', async () => {
      const p = emptyRepo();
      const result = await p.spx(['init']);
      expect(result.stdout).toContain('editors will check spx.yaml against ./node_modules/spx/schema/spx.schema.json once spx is installed in the project (npm install --save-dev spx)');
      expect(p.read('spx.yaml').split('\n')[0]).toBe('# yaml-language-server: $schema=./node_modules/spx/schema/spx.schema.json');
      expect(p.read('spx.yaml')).not.toContain(REPO_ROOT);
    });
  });

  it('-C DIR creates DIR, and the next steps start with cd DIR; outside git it says execute nodes need a repository', async () => {
    const p = createProject({});
    const result = await p.spx(['init', '-C', 'new-app']);
    expectCode(result, 0);
    expect(p.exists('new-app/spx.yaml')).toBe(true);
    expect(p.exists('new-app/USER-SPEC.md')).toBe(true);
    expect(result.stdout).toMatch(/^1\. +cd new-app$/m);
    expect(result.stderr).toContain('spx: warning: not a git repository yet (git init)');
  });

  it('takes no positional arguments', async () => {
    const result = await emptyRepo().spx(['init', 'plan-only']);
    expectCode(result, 2);
    expect(result.stderr).toContain('choose a pipeline with --pipeline NAME');
  });
});
