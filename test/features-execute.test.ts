import { existsSync, readdirSync, realpathSync } from 'node:fs';
import os from 'node:os';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cleanupAgents, git, StandInAgent, type AgentCall } from './helpers/agents.js';
import { cleanupProjects, createProject, waitFor, type SpxResult, type TestProject } from './helpers/project.js';

/** spx's scratch directories in the temp directory before the test: other tests' business. */
let scratchBefore = new Set<string>();
beforeEach(() => {
  scratchBefore = new Set(scratchDirs());
});

afterEach(async () => {
  await cleanupProjects();
  cleanupAgents();
});

function scratchDirs(): string[] {
  return readdirSync(os.tmpdir()).filter((name) => /^spx-execute-(alpha|beta)-/.test(name));
}

// Features carried out in parallel: each execute instance works in its own
// scratch worktree, and their changes land in the user's tree one at a
// time, merged or redone when another feature's change landed first.

const SHARED = ['one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight'].join('\n') + '\n';

function pipeline(): string {
  return `version: 1
defaults: { provider: echo, agent: claude }
providers:
  claude: { type: claude-code }
nodes:
  spec:
    kind: spec
    foreach: features/{feature}/USER-SPEC.md
    prompt: "Clarify the request."
    inputs: ["features/{feature}/USER-SPEC.md"]
    output: features/{feature}/AI-SPEC.md
  plan:
    kind: plan
    foreach: features/{feature}/USER-SPEC.md
    prompt: "Plan feature {feature}."
    needs: [spec]
    output: features/{feature}/AI-PLAN.md
  execute:
    kind: execute
    foreach: features/{feature}/USER-SPEC.md
    needs: [plan]
    verify: ["test -f src/{feature}.js"]
    attempts: 2
    output: .spx/execute/{feature}.patch
`;
}

/** A committed repository with these features, and a shared file both may edit. */
function gitProject(features: string[]): TestProject {
  const files: Record<string, string> = { '.gitignore': '.spx/\n', 'shared.txt': SHARED };
  for (const feature of features) files[`features/${feature}/USER-SPEC.md`] = `# ${feature}\n\nAdd src/${feature}.js.\n`;
  const project = createProject(files, pipeline());
  git(project.dir, 'init', '-q');
  git(project.dir, 'add', '-A');
  git(project.dir, 'commit', '-q', '-m', 'initial');
  return project;
}

function printed(result: SpxResult): string {
  return result.stdout + result.stderr;
}

/** The calls whose prompt is about this feature's plan. */
function callsFor(agent: StandInAgent, feature: string): AgentCall[] {
  return agent.calls().filter((call) => call.prompt.includes(`Plan feature ${feature}.`));
}

/** Worktrees git knows of besides the user's own, and spx's scratch directories left in the temp directory. */
function strayWorktrees(project: TestProject): string[] {
  const listed = git(project.dir, 'worktree', 'list', '--porcelain')
    .split('\n')
    .filter((line) => line.startsWith('worktree '))
    .map((line) => line.slice('worktree '.length))
    .filter((dir) => dir !== realpathSync(project.dir));
  const scratch = scratchDirs().filter((name) => !scratchBefore.has(name));
  return [...listed, ...scratch];
}

describe('features carried out in parallel', () => {
  it('runs the agents of two features at once under -j2 and lands both changes', async () => {
    const project = gitProject(['alpha', 'beta']);
    const agent = new StandInAgent({
      byPrompt: ['alpha', 'beta'].map((feature) => ({ contains: `Plan feature ${feature}.`, sleep: 'sleep 1', edits: [{ [`src/${feature}.js`]: `exports.${feature} = 1;\n` }] })),
    });
    const result = await project.spx(['build', '--approve', '-j2'], { env: agent.env() });
    expect(result.code, printed(result)).toBe(0);
    const [alpha] = callsFor(agent, 'alpha');
    const [beta] = callsFor(agent, 'beta');
    // Each started before the other ended.
    expect(alpha!.started).toBeLessThan(beta!.ended!);
    expect(beta!.started).toBeLessThan(alpha!.ended!);
    expect(alpha!.cwd).not.toBe(beta!.cwd);
    expect(project.read('src/alpha.js')).toBe('exports.alpha = 1;\n');
    expect(project.read('src/beta.js')).toBe('exports.beta = 1;\n');
    expect(strayWorktrees(project)).toEqual([]);
  });

  it('merges three ways a change whose context another feature changed first, and verifies it', async () => {
    const project = gitProject(['alpha', 'beta']);
    // Lines 2 and 4: within three lines of each other, so beta's patch no
    // longer applies as it is once alpha's landed, but merges cleanly.
    const agent = new StandInAgent({
      byPrompt: [
        { contains: 'Plan feature alpha.', sleep: 'sleep 0.5', edits: [{ 'src/alpha.js': '1\n', 'shared.txt': SHARED.replace('two', 'TWO by alpha') }] },
        { contains: 'Plan feature beta.', sleep: 'sleep 0.5', edits: [{ 'src/beta.js': '1\n', 'shared.txt': SHARED.replace('four', 'FOUR by beta') }] },
      ],
    });
    const result = await project.spx(['build', '--approve', '-j2'], { env: agent.env() });
    expect(result.code, printed(result)).toBe(0);
    expect(project.read('shared.txt')).toBe(SHARED.replace('two', 'TWO by alpha').replace('four', 'FOUR by beta'));
    expect(printed(result)).toContain('merged the change, three ways');
    expect(callsFor(agent, 'beta')).toHaveLength(1);
    // The output is the patch that was applied: against the tree alpha's change is in.
    expect(project.read('.spx/execute/beta.patch')).toContain(' TWO by alpha');
  });

  it('has the agent redo a change that conflicts with one that landed first: both land, no conflict markers', async () => {
    const project = gitProject(['alpha', 'beta']);
    const agent = new StandInAgent({
      see: ['shared.txt'],
      byPrompt: [
        { contains: 'Plan feature alpha.', sleep: 'sleep 0.5', edits: [{ 'src/alpha.js': '1\n', 'shared.txt': SHARED.replace('three', 'THREE by alpha') }] },
        {
          contains: 'Plan feature beta.',
          sleep: 'sleep 0.5',
          edits: [
            { 'src/beta.js': '1\n', 'shared.txt': SHARED.replace('three', 'THREE by beta') },
            { 'src/beta.js': '1\n', 'shared.txt': SHARED.replace('three', 'THREE by alpha, then by beta') },
          ],
        },
      ],
    });
    const result = await project.spx(['build', '--approve', '-j2'], { env: agent.env() });
    expect(result.code, printed(result)).toBe(0);
    expect(project.read('shared.txt')).toBe(SHARED.replace('three', 'THREE by alpha, then by beta'));
    expect(project.read('shared.txt')).not.toContain('<<<<<<<');
    const beta = callsFor(agent, 'beta');
    expect(beta).toHaveLength(2);
    // The rework ran on a snapshot holding alpha's change, and was told why.
    expect(beta[1]!.seen['shared.txt']).toContain('THREE by alpha');
    expect(beta[1]!.prompt).toContain('touches the same lines of shared.txt');
    expect(printed(result)).toContain('applied the reworked change');
    expect(git(project.dir, 'status', '--porcelain', '--', 'shared.txt', 'src')).toBe(' M shared.txt\n?? src/\n');
    expect(strayWorktrees(project)).toEqual([]);
  });

  it('fails a feature whose change still conflicts after the rework, keeping its patch, naming the files, and leaving the other change', async () => {
    const project = gitProject(['alpha', 'beta']);
    const agent = new StandInAgent({
      byPrompt: [
        { contains: 'Plan feature alpha.', sleep: 'sleep 0.5', edits: [{ 'src/alpha.js': '1\n', 'shared.txt': SHARED.replace('three', 'THREE by alpha') }] },
        // Its rework breaks verification: it never writes src/beta.js.
        { contains: 'Plan feature beta.', sleep: 'sleep 0.5', edits: [{ 'src/beta.js': '1\n', 'shared.txt': SHARED.replace('three', 'THREE by beta') }, { 'shared.txt': 'beta only\n' }] },
      ],
    });
    const result = await project.spx(['build', '--approve', '-j2', '-k'], { env: agent.env() });
    expect(result.code, printed(result)).toBe(1);
    expect(printed(result)).toContain('shared.txt');
    expect(project.read('shared.txt')).toBe(SHARED.replace('three', 'THREE by alpha'));
    expect(project.exists('src/beta.js')).toBe(false);
    expect(project.read('.spx/execute/beta.patch')).toContain('+THREE by beta');
    // The failed rework is kept for the user to inspect, until the next build.
    const kept = /Its work is in (\S+)/.exec(printed(result))![1]!;
    expect(existsSync(kept)).toBe(true);
    await project.spx(['build', '--approve', '-k'], { env: agent.env() });
    expect(existsSync(kept)).toBe(false);
  });

  it('a build killed with -9 during parallel executes leaves no worktree after the next build, applies no partial change, and the next build finishes', async () => {
    const project = gitProject(['alpha', 'beta']);
    const agent = new StandInAgent({
      byPrompt: ['alpha', 'beta'].map((feature) => ({ contains: `Plan feature ${feature}.`, sleep: 'sleep 30', edits: [{ [`src/${feature}.js`]: '1\n' }] })),
    });
    const running = project.start(['build', '--approve', '-j2'], { env: agent.env() });
    await waitFor(() => callsFor(agent, 'alpha').length + callsFor(agent, 'beta').length === 2, 'both agents to start');
    running.child.kill('SIGKILL');
    await running.done;
    agent.kill();
    expect(project.exists('src/alpha.js')).toBe(false);
    expect(project.exists('src/beta.js')).toBe(false);
    expect(strayWorktrees(project).length).toBeGreaterThan(0);

    agent.behave({ byPrompt: ['alpha', 'beta'].map((feature) => ({ contains: `Plan feature ${feature}.`, edits: [{ [`src/${feature}.js`]: '1\n' }] })) });
    const resumed = await project.spx(['build', '--approve', '-j2'], { env: agent.env() });
    expect(resumed.code, printed(resumed)).toBe(0);
    expect(project.read('src/alpha.js')).toBe('1\n');
    expect(project.read('src/beta.js')).toBe('1\n');
    expect(strayWorktrees(project)).toEqual([]);
    expect(existsSync(project.path('.spx/execute/worktrees')) ? readdirSync(project.path('.spx/execute/worktrees')) : []).toEqual([]);
  });
});
