import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cleanupProjects, createProject, REPO_ROOT, type TestProject } from './helpers/project.js';

/**
 * examples/word-count is spx's main job (the README's first set-up command
 * and .ci/run run it): the spec-plan-execute pipeline on a tiny project of
 * its own. Here it is copied, as a clean clone has it, into a git repository
 * of its own, and rehearsed offline as the README says.
 */
const EXAMPLE = 'examples/word-count';

/** The example's files a clone would have: tracked, or new and not ignored; relative to the example. */
const FILES = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z', '--', EXAMPLE], { cwd: REPO_ROOT, encoding: 'utf8' })
  .split('\0')
  .filter((file) => file !== '')
  .map((file) => path.relative(EXAMPLE, file));

/** Nothing here may reach a real model or a shared cache. */
const OFFLINE = { GEMINI_API_KEY: undefined, ANTHROPIC_API_KEY: undefined, SPX_CACHE_DIR: undefined };
const LABEL = '<!-- spx rehearse provider: offline rehearsal. No model was called; this is not a real answer. -->';

/** Each test's own fresh copy, so that any test can run alone, in any order. */
let project: TestProject;

function git(...args: string[]): string {
  const result = spawnSync('git', ['-c', 'user.name=spx', '-c', 'user.email=spx@example.com', '-c', 'commit.gpgsign=false', ...args], {
    cwd: project.dir,
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`git ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

beforeEach(() => {
  project = createProject(Object.fromEntries(FILES.map((file) => [file, readFileSync(path.join(REPO_ROOT, EXAMPLE, file), 'utf8')])));
  git('init', '-q');
  git('add', '-A');
  git('commit', '-q', '--no-verify', '-m', 'word-count');
});

afterEach(cleanupProjects);

describe('examples/word-count, rehearsed offline in a git repository of its own', () => {
  it('holds a small project: its sources, tests, USER-SPEC.md and an spx.yaml extending spec-plan-execute', () => {
    expect(FILES).toEqual(expect.arrayContaining(['spx.yaml', 'USER-SPEC.md', 'package.json', '.gitignore', 'src/count.js', 'test/count.test.js']));
    expect(project.read('spx.yaml')).toMatch(/^extends: spec-plan-execute$/m);
    // What spx writes is not part of the example.
    expect(FILES.filter((file) => /^(\.spx\/|spx\.lock$|AI-(SPEC|PLAN)\.md$)/.test(file))).toEqual([]);
  });

  it('spx build --provider rehearse stops at the review gate (exit 3) with a labelled rehearsal plan', async () => {
    const result = await project.spx(['build', '--provider', 'rehearse'], { env: OFFLINE });
    expect(result.code, result.stdout + result.stderr).toBe(3);
    expect(result.stdout).toContain('⏸ plan: AI-PLAN.md awaits review');
    expect(result.stdout).toMatch(/✓ context \(.*, 8 files\)/);
    expect(project.read('AI-PLAN.md').split('\n').slice(0, 2)).toEqual([LABEL, '# Rehearsal answer (rehearse provider)']);
    expect(project.read('AI-SPEC.md').split('\n')[0]).toBe(LABEL);
  });

  it('spx build --provider rehearse --approve runs execute (exit 0): node --test passes in the worktree, and the tree is unchanged', async () => {
    // From the review gate, where the test above stops. Three builds: more time than one test usually gets.
    expect((await project.spx(['build', '--provider', 'rehearse'], { env: OFFLINE })).code, 'stopped at the review gate').toBe(3);
    const result = await project.spx(['build', '--provider', 'rehearse', '--approve'], { env: OFFLINE });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain('✓ plan: AI-PLAN.md approved (--approve)');
    expect(result.stdout).toContain('the agent changed no file');
    expect(result.stdout).toMatch(/^spx: 2 ran, 4 fresh/m);
    expect(project.read('.spx/execute/execute.patch')).toBe('');
    // Everything spx wrote is git-ignored, and the echo "agent" changed nothing.
    expect(git('status', '--porcelain')).toBe('');
    for (const file of FILES) expect(project.read(file), file).toBe(readFileSync(path.join(REPO_ROOT, EXAMPLE, file), 'utf8'));
    // The scratch worktree is gone.
    expect(git('worktree', 'list', '--porcelain').match(/^worktree /gm)).toHaveLength(1);
    // Built and approved: the same command again does nothing.
    const again = await project.spx(['build', '--provider', 'rehearse', '--approve'], { env: OFFLINE });
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^spx: 0 ran, 6 fresh/m);
  }, 60_000);

  it('verify really runs node --test in the worktree: a failing test fails execute, and nothing is applied', async () => {
    // A whole build from scratch, three of its attempts at execute: more time than one test usually gets.
    const test = project.read('test/count.test.js');
    project.write('test/count.test.js', test.replace("assert.equal(countLines('one'), 1);", "assert.equal(countLines('one'), 2);"));
    expect(project.read('test/count.test.js')).not.toBe(test);
    try {
      const result = await project.spx(['build', '--provider', 'rehearse', '--approve'], { env: OFFLINE });
      expect(result.code, result.stdout + result.stderr).toBe(1);
      expect(result.stdout + result.stderr).toContain('could not make the verify commands pass in 3 attempts');
      expect(result.stdout + result.stderr).toContain('$ node --test');
      expect(git('status', '--porcelain')).toBe(' M test/count.test.js\n');
    } finally {
      // The failed attempt's worktree is kept for inspection; remove it.
      for (const [, dir] of git('worktree', 'list', '--porcelain').matchAll(/^worktree (.+)$/gm)) {
        if (realpathSync(dir!) !== realpathSync(project.dir)) git('worktree', 'remove', '--force', dir!);
      }
    }
  }, 60_000);
});
