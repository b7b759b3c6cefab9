import { existsSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupAgents, git, pathWithOnly, StandInAgent } from './helpers/agents.js';
import { cleanupCacheDirs, tempDir } from './helpers/cache.js';
import { cleanupProjects, createProject, TestProject, waitFor, type SpxResult } from './helpers/project.js';

afterEach(async () => {
  await cleanupProjects();
  cleanupAgents();
  cleanupCacheDirs();
});

const PATCH = '.spx/execute/plan.patch';
const PLAN_STEP = 'PLAN-STEP-7f3a: create src/b.js exporting b = 2, and give src/a.js a second export.';

/** The agent's good change: a new file, an edit of a tracked one, a deletion. */
const GOOD: Record<string, string | null> = {
  'src/b.js': 'exports.b = 2;\n',
  'src/a.js': 'exports.a = 1;\nexports.also = 3;\n',
  'src/old.js': null,
};
/** A change that the verify command rejects. */
const BROKEN: Record<string, string> = { 'src/b.js': 'exports.b = 1;\n' };

/** The project's files, committed: its test (check.js) passes only once src/b.js exports b = 2. */
const FILES: Record<string, string> = {
  '.gitignore': '.spx/\nruns.log\ncontext.txt\nnode_modules/\n',
  'USER-SPEC.md': '# Feature\n\nExport b = 2 from src/b.js.\n',
  'src/a.js': 'exports.a = 1;\n',
  'src/old.js': 'exports.old = true;\n',
  'check.js': [
    "const { b } = require('./src/b.js');",
    "if (b !== 2) { console.error('CHECK-FAILED: expected b to be 2, got ' + b); process.exit(1); }",
    "console.log('check: ok');",
    '',
  ].join('\n'),
};

interface PipelineOptions {
  /** The execute node's extra settings, as YAML lines indented by four spaces. */
  execute?: string;
  /** Extra providers, as YAML lines indented by two spaces. */
  providers?: string;
  /** The execute node's verify list, as a YAML flow sequence. */
  verify?: string;
}

/**
 * The standard pipeline: spec and plan on the offline echo provider (whose
 * answer quotes its instruction, so the plan holds PLAN_STEP), both using a
 * context-like run node over src/, and execute on the stand-in claude.
 */
function pipeline(options: PipelineOptions = {}): string {
  return `version: 1
defaults: { provider: echo, agent: claude }
providers:
  claude: { type: claude-code }
${options.providers ?? ''}
nodes:
  context:
    kind: run
    command: echo context >> runs.log && cat src/*.js > context.txt
    inputs: ["src/**"]
    outputs: [context.txt]
  spec:
    kind: spec
    prompt: "Clarify the feature request."
    inputs: [USER-SPEC.md]
    uses: [context]
    output: AI-SPEC.md
  plan:
    kind: plan
    prompt: "${PLAN_STEP}"
    needs: [spec]
    uses: [context]
    output: AI-PLAN.md
  execute:
    kind: execute
    needs: [plan]
    verify: ${options.verify ?? '["node check.js"]'}
    attempts: 2
    output: ${PATCH}
${options.execute ?? ''}
`;
}

/** A git repository holding the project, everything committed. */
function gitProject(options: PipelineOptions = {}, files: Record<string, string> = {}): TestProject {
  const project = createProject({ ...FILES, ...files }, pipeline(options));
  git(project.dir, 'init', '-q');
  git(project.dir, 'add', '-A');
  git(project.dir, 'commit', '-q', '-m', 'initial');
  return project;
}

function build(project: TestProject, agent: StandInAgent, args: string[] = []): Promise<SpxResult> {
  return project.spx(['build', '--approve', ...args], { env: agent.env() });
}

function printed(result: SpxResult): string {
  return result.stdout + result.stderr;
}

/** The nodes a `--json` build ran or restored from the cache, in order. */
function touched(result: SpxResult): string[] {
  return result.stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { type: string; node?: string })
    .filter((event) => event.type === 'start' || event.type === 'restored')
    .map((event) => event.node!);
}

/** What the user's tree looks like to git: status, unstaged and staged diffs. */
function gitView(project: TestProject): { status: string; diff: string; staged: string } {
  // spx's own outputs upstream of execute are the user's business, not the agent's.
  const notSpx = ['--', '.', ':!AI-SPEC.md', ':!AI-PLAN.md', ':!spx.lock'];
  return {
    status: git(project.dir, 'status', '--porcelain', '--untracked-files=all', ...notSpx),
    diff: git(project.dir, 'diff'),
    staged: git(project.dir, 'diff', '--cached'),
  };
}

/** The worktrees git knows of, the user's own first. */
function worktrees(project: TestProject): string[] {
  return git(project.dir, 'worktree', 'list', '--porcelain')
    .split('\n')
    .filter((line) => line.startsWith('worktree '))
    .map((line) => line.slice('worktree '.length));
}

/** Asserts that no scratch worktree is left, neither in git's list nor on disk (where the agent worked). */
function expectNoWorktree(project: TestProject, agent?: StandInAgent): void {
  expect(worktrees(project)).toEqual([realpathSync(project.dir)]);
  for (const call of agent?.calls() ?? []) expect(existsSync(call.cwd), call.cwd).toBe(false);
}

/** The plan and spec are built and approved, execute not yet run: the tree as the user has it before execute. */
async function buildUpToPlan(project: TestProject, agent: StandInAgent): Promise<void> {
  const result = await project.spx(['build', '--approve', 'plan'], { env: agent.env() });
  expect(result.code, printed(result)).toBe(0);
  expect(agent.calls()).toEqual([]);
}

describe('execute: a verified change reaches the tree', () => {
  it('applies a change that passes verify: the agent got the plan, the patch is kept, the worktree removed, the metrics recorded', async () => {
    const project = gitProject();
    const agent = new StandInAgent({ edits: [GOOD] });
    const result = await build(project, agent);
    expect(result.code, printed(result)).toBe(0);

    // One call, in a scratch worktree, given the approved plan and the verify commands.
    const calls = agent.calls();
    expect(calls).toHaveLength(1);
    expect(calls[0]!.program).toBe('claude');
    expect(calls[0]!.argv).toEqual(expect.arrayContaining(['-p', '--output-format', 'json']));
    // The documented safe default: edits are accepted (in the worktree only), nothing broader.
    expect(calls[0]!.argv.join(' ')).toContain('--permission-mode acceptEdits');
    expect(project.read('AI-PLAN.md')).toContain(PLAN_STEP);
    expect(calls[0]!.prompt).toContain(PLAN_STEP);
    expect(calls[0]!.prompt).toContain('node check.js');
    // Outside the project, so that its globs and test runners never see the copy.
    expect(path.relative(realpathSync(project.dir), calls[0]!.cwd)).toMatch(/^\.\.\//);
    expect(calls[0]!.cwd.startsWith(realpathSync(os.tmpdir()))).toBe(true);

    // The change is in the user's tree, as git sees it.
    expect(project.read('src/b.js')).toBe(GOOD['src/b.js']);
    expect(project.read('src/a.js')).toBe(GOOD['src/a.js']);
    expect(project.exists('src/old.js')).toBe(false);
    const status = git(project.dir, 'status', '--porcelain');
    expect(status).toContain(' M src/a.js');
    expect(status).toContain('?? src/b.js');
    expect(status).toContain(' D src/old.js');

    // The patch is the node's output and holds the change.
    const patch = project.read(PATCH);
    expect(patch).toContain('+++ b/src/b.js');
    expect(patch).toContain('+exports.b = 2;');
    expect(patch).toContain('+++ b/src/a.js');
    expect(patch).toContain('+exports.also = 3;');
    expect(patch).toMatch(/deleted file mode \d+\nindex \w+\.\.0+\n--- a\/src\/old\.js/);
    expect(patch).not.toContain('AI-PLAN.md');
    expect(patch).not.toContain('.spx/');

    expectNoWorktree(project, agent);
    expect(project.lock().nodes.execute).toMatchObject({ metrics: { costUsd: 0.01, turns: 2, attempts: 1 } });
    expect(result.stdout).toContain('src/b.js');
    expect(result.stdout).toContain('$0.0100');
  });

  it("applies the agent's bytes exactly (binary, latin-1, trailing blanks) whatever the user's git config says", async () => {
    const project = gitProject();
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x01, 0xff]);
    const latin1 = Buffer.from('café, encoded as latin-1\n', 'latin1');
    const agent = new StandInAgent({
      edits: [
        {
          ...GOOD,
          'src/b.js': 'exports.b = 2;   \n',
          'assets/logo.png': { base64: png.toString('base64') },
          'docs/latin1.txt': { base64: latin1.toString('base64') },
        },
      ],
    });
    // Settings some users have: patches without a/ b/ prefixes, and whitespace errors refused.
    const config = path.join(tempDir('spx-gitconfig-'), 'gitconfig');
    writeFileSync(config, '[diff]\n\tnoprefix = true\n[apply]\n\twhitespace = error\n');
    const result = await project.spx(['build', '--approve'], { env: { ...agent.env(), GIT_CONFIG_GLOBAL: config } });
    expect(result.code, printed(result)).toBe(0);
    expect(readFileSync(project.path('assets/logo.png'))).toEqual(png);
    expect(readFileSync(project.path('docs/latin1.txt'))).toEqual(latin1);
    expect(project.read('src/b.js')).toBe('exports.b = 2;   \n');
    expect(project.read('src/a.js')).toBe(GOOD['src/a.js']);
    expectNoWorktree(project, agent);
  });

  it('shows the agent uncommitted and untracked work, and never touches what the user staged', async () => {
    const project = gitProject({}, { 'src/staged.js': 'exports.staged = 0;\n' });
    const agentEdit = { ...GOOD, 'src/a.js': 'exports.a = 1; // edited, not committed\nexports.also = 3;\n' };
    const agent = new StandInAgent({ edits: [agentEdit], see: ['src/a.js', 'src/staged.js', 'notes/new.txt'] });
    await buildUpToPlan(project, agent);
    // An unstaged edit of a tracked file, a staged one, and a new untracked file.
    project.write('src/a.js', 'exports.a = 1; // edited, not committed\n');
    project.write('src/staged.js', 'exports.staged = 1;\n');
    git(project.dir, 'add', 'src/staged.js');
    project.write('notes/new.txt', 'a new file, never added\n');
    const staged = git(project.dir, 'diff', '--cached');
    expect(staged).toContain('+exports.staged = 1;');

    const result = await build(project, agent);
    expect(result.code, printed(result)).toBe(0);

    expect(agent.calls()[0]!.seen).toEqual({
      'src/a.js': 'exports.a = 1; // edited, not committed\n',
      'src/staged.js': 'exports.staged = 1;\n',
      'notes/new.txt': 'a new file, never added\n',
    });
    // The agent's edit lands on top of the user's uncommitted one.
    expect(project.read('src/a.js')).toBe(agentEdit['src/a.js']);
    expect(project.read('notes/new.txt')).toBe('a new file, never added\n');
    expect(git(project.dir, 'diff', '--cached')).toBe(staged);
    // The patch is the agent's change alone, not the user's uncommitted work.
    const patch = project.read(PATCH);
    expect(patch).not.toContain('notes/new.txt');
    expect(patch).not.toContain('src/staged.js');
    expectNoWorktree(project, agent);
  });

  it('retries with the failing verify output, and applies the change that passes on the second attempt', async () => {
    const project = gitProject();
    const agent = new StandInAgent({ edits: [BROKEN, GOOD] });
    const result = await build(project, agent);
    expect(result.code, printed(result)).toBe(0);

    const calls = agent.calls();
    expect(calls).toHaveLength(2);
    expect(calls[0]!.prompt).not.toContain('CHECK-FAILED');
    expect(calls[1]!.prompt).toContain('CHECK-FAILED: expected b to be 2, got 1');
    expect(calls[1]!.prompt).toContain('node check.js');
    expect(calls[1]!.prompt).toContain(PLAN_STEP);
    expect(project.read('src/b.js')).toBe(GOOD['src/b.js']);
    expect(project.lock().nodes.execute).toMatchObject({ metrics: { costUsd: 0.02, turns: 4, attempts: 2 } });
    expectNoWorktree(project, agent);
  });

  it('leaves the tree untouched when verify never passes, and prints the kept worktree and the last verify output', async () => {
    const project = gitProject();
    const agent = new StandInAgent({ edits: [BROKEN] });
    await buildUpToPlan(project, agent);
    project.write('src/a.js', 'exports.a = 1; // uncommitted\n');
    const before = gitView(project);

    const result = await build(project, agent);
    expect(result.code, printed(result)).toBe(1);
    expect(agent.calls()).toHaveLength(2);
    expect(gitView(project)).toEqual(before);
    expect(project.exists('src/b.js')).toBe(false);
    expect(project.read('src/a.js')).toBe('exports.a = 1; // uncommitted\n');

    expect(printed(result)).toContain('CHECK-FAILED: expected b to be 2, got 1');
    const kept = worktrees(project).slice(1);
    expect(kept).toHaveLength(1);
    expect(printed(result)).toContain(kept[0]);
    // The agent's work is there to inspect, on top of the user's snapshot.
    expect(existsSync(path.join(kept[0]!, 'src/b.js'))).toBe(true);
    expect(project.exists(PATCH)).toBe(false);
    // A failure, not a crash.
    expect(printed(result)).not.toMatch(/\n\s+at /);
  });
});

describe('execute: setup', () => {
  it('fails before the agent is called when a setup command fails, showing the command, its output and its exit', async () => {
    const project = gitProject({ execute: '    setup: ["echo SETUP-SAID-THIS && exit 4"]' });
    const agent = new StandInAgent({ edits: [GOOD] });
    const result = await build(project, agent);
    expect(result.code, printed(result)).toBe(1);
    expect(agent.calls()).toEqual([]);
    expect(printed(result)).toContain('a setup command failed in the worktree:');
    expect(printed(result)).toContain('$ echo SETUP-SAID-THIS && exit 4');
    expect(printed(result)).toContain('SETUP-SAID-THIS\n');
    expect(printed(result)).toContain('(exited with code 4)');
    expect(project.exists(PATCH)).toBe(false);
    expectNoWorktree(project, agent);
  });
});

describe('execute: what the snapshot holds', () => {
  it('leaves out a repository nested in the tree that has no commit yet, instead of failing', async () => {
    const project = gitProject();
    git(project.dir, 'init', '-q', 'scratch-repo');
    project.write('scratch-repo/notes.txt', 'not part of this project\n');
    const agent = new StandInAgent({ edits: [GOOD] });
    const result = await build(project, agent);
    expect(result.code, printed(result)).toBe(0);
    expect(project.read('src/b.js')).toBe(GOOD['src/b.js']);
    expect(project.read('scratch-repo/notes.txt')).toBe('not part of this project\n');
    expectNoWorktree(project, agent);
  });
});

describe('execute: the cache', () => {
  /** Repository A after a successful build, and a clone B of its initial commit. */
  async function builtAndClone(): Promise<{ a: TestProject; b: TestProject; agent: StandInAgent; cache: string }> {
    const a = gitProject();
    const agent = new StandInAgent({ edits: [GOOD] });
    const result = await build(a, agent);
    expect(result.code, printed(result)).toBe(0);
    expect(agent.calls()).toHaveLength(1);
    const target = path.join(tempDir('spx-clone-'), 'b');
    git(a.dir, 'clone', '-q', a.dir, target);
    return { a, b: new TestProject(target), agent, cache: a.path('.spx/cache') };
  }

  it('a cache hit applies the patch without calling the agent; building again is a no-op', async () => {
    const { b, agent, cache } = await builtAndClone();
    expect(b.exists('src/b.js')).toBe(false);

    const result = await build(b, agent, ['--cache-dir', cache]);
    expect(result.code, printed(result)).toBe(0);
    expect(agent.calls()).toHaveLength(1);
    // The user is told that the cache hit changed their files.
    expect(result.stdout).toMatch(/applied the change to your working tree:\n(  src\/\S+\n)+↺ execute restored from cache/);
    expect(b.read('src/b.js')).toBe(GOOD['src/b.js']);
    expect(b.read('src/a.js')).toBe(GOOD['src/a.js']);
    expect(b.exists('src/old.js')).toBe(false);
    expect(git(b.dir, 'status', '--porcelain')).toContain(' M src/a.js');
    expectNoWorktree(b, agent);

    const before = gitView(b);
    // The change reruns the context node, which reads src/; nothing else.
    const again = await build(b, agent, ['--cache-dir', cache, '--json']);
    expect(again.code, printed(again)).toBe(0);
    expect(touched(again)).toEqual(['context']);
    const third = await build(b, agent, ['--cache-dir', cache, '--json']);
    expect(third.code, printed(third)).toBe(0);
    expect(touched(third)).toEqual([]);
    expect(agent.calls()).toHaveLength(1);
    expect(gitView(b)).toEqual(before);
  });

  it('a patch already in the tree is a no-op: no error, no duplicate', async () => {
    const { a, b, agent, cache } = await builtAndClone();
    // In A: the patch file is gone, so execute is stale, and its cache entry brings back a change A already has.
    const afterBuild = gitView(a);
    expect((await a.spx(['clean', 'execute'])).code).toBe(0);
    const again = await build(a, agent);
    expect(again.code, printed(again)).toBe(0);
    expect(again.stdout).toContain('the change was already in your working tree');
    expect(agent.calls()).toHaveLength(1);
    expect(a.read('src/a.js')).toBe(GOOD['src/a.js']);
    expect(gitView(a)).toEqual(afterBuild);

    // In B: the user made the same change by hand.
    for (const [file, content] of Object.entries(GOOD)) {
      if (content === null) rmSync(b.path(file));
      else b.write(file, content);
    }
    const handMade = gitView(b);
    const result = await build(b, agent, ['--cache-dir', cache]);
    expect(result.code, printed(result)).toBe(0);
    expect(agent.calls()).toHaveLength(1);
    expect(gitView(b)).toEqual(handMade);
    expect(b.read('src/a.js')).toBe(GOOD['src/a.js']);
  });

  it('refuses a cached patch that no longer applies, with a clear message, leaving the tree as it was', async () => {
    const { b, agent, cache } = await builtAndClone();
    b.write('src/b.js', 'exports.b = "mine";\n');
    b.write('src/a.js', 'exports.a = "mine";\n');
    const before = gitView(b);

    const result = await build(b, agent, ['--cache-dir', cache]);
    expect(result.code, printed(result)).toBe(1);
    expect(agent.calls()).toHaveLength(1);
    expect(printed(result)).toContain('no longer applies');
    // Building again would restore the same patch: the advice is to force a rerun.
    expect(printed(result)).toContain('spx build --force execute');
    expect(printed(result)).not.toMatch(/\n\s+at /);
    expect(gitView(b)).toEqual(before);
    expect(b.read('src/b.js')).toBe('exports.b = "mine";\n');
    expect(b.read('src/a.js')).toBe('exports.a = "mine";\n');

    // Once the user puts their work aside, the cached change applies.
    git(b.dir, 'checkout', '--', 'src/a.js');
    rmSync(b.path('src/b.js'));
    const resolved = await build(b, agent, ['--cache-dir', cache]);
    expect(resolved.code, printed(resolved)).toBe(0);
    expect(agent.calls()).toHaveLength(1);
    expect(b.read('src/b.js')).toBe(GOOD['src/b.js']);
    expect(b.read('src/a.js')).toBe(GOOD['src/a.js']);
    expect(b.exists('src/old.js')).toBe(false);
  });

  it('after execute applied its change, a second build calls no model or agent', async () => {
    const project = gitProject();
    const agent = new StandInAgent({ edits: [GOOD] });
    expect((await build(project, agent)).code).toBe(0);
    expect(project.takeRuns()).toEqual(['context']);
    const spec = project.read('AI-SPEC.md');
    const plan = project.read('AI-PLAN.md');
    const lock = project.lock().nodes;

    // Without --approve: a plan that needed approval again would stop the build (exit 3).
    const again = await project.spx(['build', '--json'], { env: agent.env() });
    expect(again.code, printed(again)).toBe(0);
    expect(agent.calls()).toHaveLength(1);
    // The code change reruns the context node (it reads src/), and nothing else.
    expect(project.takeRuns()).toEqual(['context']);
    expect(touched(again)).toEqual(['context']);
    expect(project.read('AI-SPEC.md')).toBe(spec);
    expect(project.read('AI-PLAN.md')).toBe(plan);
    expect(project.lock().nodes.spec).toEqual(lock.spec);
    expect(project.lock().nodes.plan).toEqual(lock.plan);
    expect(project.lock().nodes.execute).toEqual(lock.execute);

    const third = await project.spx(['build'], { env: agent.env() });
    expect(third.code, printed(third)).toBe(0);
    expect(project.takeRuns()).toEqual([]);
    expect(agent.calls()).toHaveLength(1);
  });
});

describe('execute: interrupts and errors', () => {
  it('Ctrl-C while the agent works exits 130, kills the agent, removes the worktree and leaves the tree untouched', async () => {
    const project = gitProject();
    const agent = new StandInAgent({});
    await buildUpToPlan(project, agent);
    // Short enough that an agent left to finish would do so within the test's time.
    agent.behave({ edits: [GOOD], sleep: project.sleepCommand(10) });
    const before = gitView(project);

    const running = project.start(['build', '--approve'], { env: agent.env() });
    await waitFor(() => agent.sleeping(), 'the agent to start working');
    expect(agent.alive()).not.toEqual([]);
    running.child.kill('SIGINT');
    const result = await running.done;
    expect(result.code, printed(result)).toBe(130);

    expect(project.survivors()).toEqual([]);
    expect(agent.alive()).toEqual([]);
    // Killed in its sleep, not waited for.
    expect(agent.woke()).toBe(false);
    expectNoWorktree(project, agent);
    expect(gitView(project)).toEqual(before);
    expect(project.exists('src/b.js')).toBe(false);
    expect(project.exists(PATCH)).toBe(false);
  });

  it('Ctrl-C while a verify command runs exits 130, stops it, removes the worktree and leaves the tree untouched', async () => {
    const project = gitProject();
    const verify = `touch "$AGENT_DIR/verifying" && ${project.sleepCommand(30)}`;
    project.writeConfig(pipeline({ verify: JSON.stringify([verify]) }));
    const agent = new StandInAgent({ edits: [GOOD] });
    await buildUpToPlan(project, agent);
    const before = gitView(project);

    const running = project.start(['build', '--approve'], { env: agent.env() });
    await waitFor(() => existsSync(path.join(agent.dir, 'verifying')), 'the verify command to start');
    await waitFor(() => project.survivors().length > 0, 'the verify command to sleep');
    running.child.kill('SIGINT');
    const result = await running.done;
    expect(result.code, printed(result)).toBe(130);
    expect(project.survivors()).toEqual([]);
    expectNoWorktree(project, agent);
    expect(gitView(project)).toEqual(before);
    expect(project.exists('src/b.js')).toBe(false);
  });

  it('refuses to apply a change when the user edited the same file while the agent worked, and says how to apply it', async () => {
    const project = gitProject();
    const agent = new StandInAgent({});
    await buildUpToPlan(project, agent);
    const gate = path.join(agent.dir, 'go');
    agent.behave({ edits: [GOOD], sleep: `for i in $(seq 600); do [ -f "${gate}" ] && break; sleep 0.05; done` });

    const running = project.start(['build', '--approve'], { env: agent.env() });
    await waitFor(() => agent.sleeping(), 'the agent to start working');
    project.write('src/a.js', 'exports.a = "changed meanwhile";\n');
    const before = gitView(project);
    writeFileSync(gate, '');
    const result = await running.done;
    expect(result.code, printed(result)).toBe(1);
    expect(printed(result)).toContain('no longer applies');
    expect(printed(result)).toContain('git apply --3way');
    expect(printed(result)).toContain('build again to redo the change');
    expect(printed(result)).not.toMatch(/\n\s+at /);
    // Refused whole: not even the new file is written.
    expect(gitView(project)).toEqual(before);
    expect(project.exists('src/b.js')).toBe(false);
    expect(project.read(PATCH)).toContain('+exports.b = 2;');
    expectNoWorktree(project, agent);
  });

  it('says that execute needs git in a project that is not a repository', async () => {
    const project = createProject(FILES, pipeline());
    const agent = new StandInAgent({ edits: [GOOD] });
    const result = await build(project, agent);
    expect(result.code, printed(result)).toBe(1);
    expect(printed(result)).toMatch(/execute nodes need a git repository/);
    expect(printed(result)).toContain('git init');
    expect(printed(result)).not.toMatch(/\n\s+at /);
    expect(agent.calls()).toEqual([]);
    expect(project.exists('src/b.js')).toBe(false);
  });

  it('names a missing agent binary, whether claude is not on PATH or the command names another program', async () => {
    const project = gitProject();
    const agent = new StandInAgent({ edits: [GOOD] });
    await buildUpToPlan(project, agent);

    const onlyGit = await project.spx(['build', '--approve'], { env: { PATH: pathWithOnly(['git', 'sh']) } });
    expect(onlyGit.code, printed(onlyGit)).toBe(1);
    expect(printed(onlyGit)).toMatch(/"claude" was not found/);
    expect(printed(onlyGit)).not.toMatch(/\n\s+at /);
    expectNoWorktree(project, agent);

    project.writeConfig(pipeline({ providers: '  other: { type: claude-code, command: [no-such-claude] }', execute: '    agent: other' }));
    const renamed = await build(project, agent);
    expect(renamed.code, printed(renamed)).toBe(1);
    expect(printed(renamed)).toMatch(/"no-such-claude" was not found/);
    expect(agent.calls()).toEqual([]);
    expect(project.exists('src/b.js')).toBe(false);
  });

  it("fails with Claude Code's own error when the agent reports one, leaving the tree untouched", async () => {
    const project = gitProject();
    const agent = new StandInAgent({ edits: [GOOD], error: true });
    const result = await build(project, agent);
    expect(result.code, printed(result)).toBe(1);
    expect(printed(result)).toContain('the stand-in agent failed on purpose');
    expect(printed(result)).not.toMatch(/\n\s+at /);
    expect(agent.calls()).toHaveLength(1);
    expect(project.exists('src/b.js')).toBe(false);
    expect(project.read('src/a.js')).toBe(FILES['src/a.js']);
    expect(project.exists(PATCH)).toBe(false);
    expectNoWorktree(project, agent);
  });

  it('refuses a gemini API provider as the agent, saying it cannot edit files', async () => {
    const project = gitProject({
      providers: '  api: { type: gemini, model: gemini-test, baseUrl: "http://127.0.0.1:9" }',
      execute: '    agent: api',
    });
    const agent = new StandInAgent({ edits: [GOOD] });
    const result = await project.spx(['build', '--approve'], { env: { ...agent.env(), GEMINI_API_KEY: 'test-key' } });
    expect(result.code, printed(result)).toBe(1);
    expect(printed(result)).toContain('cannot edit files');
    expect(printed(result)).not.toMatch(/\n\s+at /);
    expect(project.exists('src/b.js')).toBe(false);
    expectNoWorktree(project, agent);
  });
});

describe('execute: agents and worktree links', () => {
  it('runs a command provider as the agent (gemini -p --yolo PROMPT)', async () => {
    const project = gitProject({
      providers: '  gemini: { type: command, command: [gemini, -p, --yolo], promptVia: argument }',
      execute: '    agent: gemini',
    });
    const agent = new StandInAgent({ edits: [GOOD] });
    const result = await build(project, agent);
    expect(result.code, printed(result)).toBe(0);
    const [call] = agent.calls();
    expect(call!.program).toBe('gemini');
    expect(call!.argv.slice(0, 2)).toEqual(['-p', '--yolo']);
    expect(call!.prompt).toContain(PLAN_STEP);
    expect(project.read('src/b.js')).toBe(GOOD['src/b.js']);
    expectNoWorktree(project, agent);
  });

  it('link makes an ignored directory visible in the worktree, and keeps it out of the patch', async () => {
    const project = gitProject({ execute: '    link: [node_modules]', verify: `["node check.js", "node -e \\"require('dep')\\""]` });
    project.write('node_modules/dep/index.js', "console.log('dep loaded');\n");
    const agent = new StandInAgent({ edits: [GOOD], see: ['node_modules/dep/index.js'] });
    const result = await build(project, agent);
    expect(result.code, printed(result)).toBe(0);
    expect(agent.calls()[0]!.seen['node_modules/dep/index.js']).toContain('dep loaded');
    const patch = project.read(PATCH);
    expect(patch).toContain('src/b.js');
    expect(patch).not.toContain('node_modules');
    expect(project.read('node_modules/dep/index.js')).toContain('dep loaded');
    expectNoWorktree(project, agent);
  });
});
