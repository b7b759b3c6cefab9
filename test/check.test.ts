import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupAgents, git, StandInAgent } from './helpers/agents.js';
import { cleanupProjects, createProject, type SpxResult, type TestProject } from './helpers/project.js';
import { patchedFiles } from '../src/cli/patch-files.js';

afterEach(async () => {
  await cleanupProjects();
  cleanupAgents();
});

/** No key anywhere: check and why must not need one. */
const NO_KEY = { env: { GEMINI_API_KEY: undefined, GOOGLE_API_KEY: undefined } };

/** Spec and plan (reviewed) on the offline echo provider, and a run node that carries the plan out. */
const PIPELINE = `version: 1
defaults: { provider: echo }
nodes:
  spec:
    kind: spec
    inputs: [USER-SPEC.md]
    output: AI-SPEC.md
  plan:
    kind: plan
    needs: [spec]
    output: AI-PLAN.md
  impl:
    kind: run
    needs: [plan]
    command: "cp AI-PLAN.md done.txt"
    outputs: [done.txt]
`;

function printed(result: SpxResult): string {
  return result.stdout + result.stderr;
}

async function spx(project: TestProject, args: string[], code: number): Promise<SpxResult> {
  const result = await project.spx(args, NO_KEY);
  expect(result.code, printed(result)).toBe(code);
  return result;
}

/** Every file under the project with its bytes and mtime: what "writes nothing" is checked against. */
function snapshot(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (relative: string): void => {
    for (const entry of readdirSync(path.join(dir, relative), { withFileTypes: true })) {
      const name = path.join(relative, entry.name);
      if (entry.isDirectory()) walk(name);
      else files[name] = `${statSync(path.join(dir, name)).mtimeMs} ${readFileSync(path.join(dir, name), 'base64')}`;
    }
  };
  walk('.');
  return files;
}

interface CheckJson {
  ok: boolean;
  problems: { type: string; node: string; [key: string]: unknown }[];
}

async function checkJson(project: TestProject, args: string[], code: number): Promise<CheckJson> {
  return JSON.parse((await spx(project, ['check', '--json', ...args], code)).stdout) as CheckJson;
}

describe('spx check', () => {
  it('exits 1 while the plan awaits review and 0 once approved and built, with no key, writing nothing', async () => {
    const project = createProject({ 'USER-SPEC.md': '# Feature\n\nDo it.\n' }, PIPELINE);
    await spx(project, ['build'], 3);

    const before = snapshot(project.dir);
    const waiting = await spx(project, ['check'], 1);
    expect(waiting.stdout).toContain('plan: awaiting review of AI-PLAN.md (spx approve plan)');
    expect(waiting.stdout).toMatch(/impl: blocked, "plan" awaits review/);
    expect(snapshot(project.dir)).toEqual(before);

    await spx(project, ['approve', 'plan'], 0);
    await spx(project, ['build'], 0);
    const built = snapshot(project.dir);
    const lock = project.lockText();
    const ok = await spx(project, ['check'], 0);
    expect(ok.stdout).toContain('ok: every node is fresh and every reviewed output approved');
    expect(project.lockText()).toBe(lock);
    expect(snapshot(project.dir)).toEqual(built);
  });

  it('names a stale node and why, and an approved output edited since', async () => {
    const project = createProject({ 'USER-SPEC.md': '# Feature\n\nDo it.\n' }, PIPELINE);
    await spx(project, ['build', '--approve'], 0);

    project.write('USER-SPEC.md', '# Feature\n\nDo it differently.\n');
    const stale = await spx(project, ['check'], 1);
    expect(stale.stdout).toMatch(/spec: stale\n\s+.*USER-SPEC\.md/);
    expect(stale.stdout).toMatch(/plan: stale\n(\s+.*\n)*\s+.*spec/);
    project.write('USER-SPEC.md', '# Feature\n\nDo it.\n');
    await spx(project, ['check'], 0);

    project.write('AI-PLAN.md', `${project.read('AI-PLAN.md')}\nA reviewer's afterthought.\n`);
    const edited = await checkJson(project, [], 1);
    expect(edited.problems).toContainEqual({ type: 'edited-since-approval', node: 'plan', outputs: ['AI-PLAN.md'] });
    expect(edited.problems.map((p) => p.type)).not.toContain('awaiting-review');
  });

  it('--json gives ok and the problems as tagged objects', async () => {
    const project = createProject({ 'USER-SPEC.md': '# Feature\n\nDo it.\n' }, PIPELINE);
    const never = await checkJson(project, [], 1);
    expect(never.ok).toBe(false);
    expect(never.problems[0]).toEqual({ type: 'stale', node: 'spec', reasons: [expect.any(String)] });
    expect(never.problems.map((p) => [p.type, p.node])).toEqual([
      ['stale', 'spec'],
      ['stale', 'plan'],
      ['stale', 'impl'],
    ]);

    await spx(project, ['build'], 3);
    const waiting = await checkJson(project, [], 1);
    expect(waiting.problems).toEqual([
      { type: 'awaiting-review', node: 'plan', outputs: ['AI-PLAN.md'] },
      { type: 'blocked', node: 'impl', because: expect.stringContaining('"plan" awaits review') },
    ]);
    await spx(project, ['build', '--approve'], 0);
    expect(await checkJson(project, [], 0)).toEqual({ ok: true, problems: [] });
  });

  it('takes node names as other commands do: a node, an instance, a foreach name', async () => {
    const project = createProject(
      { 'features/alpha/USER-SPEC.md': '# alpha\n', 'features/beta/USER-SPEC.md': '# beta\n' },
      `version: 1
defaults: { provider: echo }
nodes:
  spec:
    kind: spec
    foreach: features/{feature}/USER-SPEC.md
    inputs: ["features/{feature}/USER-SPEC.md"]
    output: features/{feature}/AI-SPEC.md
  plan:
    kind: plan
    foreach: features/{feature}/USER-SPEC.md
    needs: [spec]
    output: features/{feature}/AI-PLAN.md
`,
    );
    await spx(project, ['build', '--approve'], 0);
    await spx(project, ['check', 'plan:alpha'], 0);
    project.write('features/beta/USER-SPEC.md', '# beta, changed\n');
    await spx(project, ['check', 'plan:alpha'], 0);
    const beta = await checkJson(project, ['plan:beta'], 1);
    expect(beta.problems.map((p) => [p.type, p.node])).toEqual([
      ['stale', 'spec:beta'],
      ['stale', 'plan:beta'],
    ]);
    const all = await checkJson(project, ['plan'], 1);
    expect(all.problems.map((p) => p.node)).toEqual(['spec:beta', 'plan:beta']);
    expect(printed(await spx(project, ['check', 'plan:gamma'], 2))).toContain('plan:gamma');
  });
});

/** Spec and plan on echo, and an execute node on the stand-in claude. */
const EXECUTE_PIPELINE = `version: 1
defaults: { provider: echo, agent: claude }
providers:
  claude: { type: claude-code }
nodes:
  spec:
    kind: spec
    inputs: [USER-SPEC.md]
    output: AI-SPEC.md
  plan:
    kind: plan
    needs: [spec]
    output: AI-PLAN.md
  execute:
    kind: execute
    needs: [plan]
    output: changes/execute.patch
`;

describe('spx why', () => {
  it('names the execute node, its plan and spec, and whether the file changed since', async () => {
    const project = createProject(
      { '.gitignore': '.spx/\n', 'USER-SPEC.md': '# Feature\n\nWrite src/x.js.\n', 'src/a.js': 'exports.a = 1;\n' },
      EXECUTE_PIPELINE,
    );
    git(project.dir, 'init', '-q');
    git(project.dir, 'add', '-A');
    git(project.dir, 'commit', '-q', '-m', 'initial');
    const agent = new StandInAgent({ edits: [{ 'src/x.js': 'exports.x = 1;\n' }] });
    const built = await project.spx(['build', '--approve'], { env: agent.env() });
    expect(built.code, printed(built)).toBe(0);
    expect(project.read('src/x.js')).toBe('exports.x = 1;\n');

    const lock = project.lock().nodes;
    const why = await spx(project, ['why', 'src/x.js'], 0);
    expect(why.stdout).toContain(`src/x.js was last changed by execute (patch changes/execute.patch ${lock.execute!.outputs['changes/execute.patch']!.slice(0, 12)})`);
    expect(why.stdout).toContain(`from plan plan: AI-PLAN.md ${lock.plan!.outputs['AI-PLAN.md']!.slice(0, 12)}, approved`);
    expect(why.stdout).toContain(`from spec spec: AI-SPEC.md ${lock.spec!.outputs['AI-SPEC.md']!.slice(0, 12)}, no review gate`);
    expect(why.stdout).toContain('src/x.js is as the patch left it');

    project.write('src/x.js', 'exports.x = 2;\n');
    expect((await spx(project, ['why', 'src/x.js'], 0)).stdout).toContain('src/x.js has changed since the patch');

    const untouched = await spx(project, ['why', 'src/a.js'], 1);
    expect(untouched.stdout).toContain("no execute node's patch recorded in spx.lock touches src/a.js");
    expect(agent.calls()).toHaveLength(1);

    // As in a fresh clone where the patch was not committed: the answer says why it cannot tell.
    rmSync(project.path('changes/execute.patch'));
    expect((await spx(project, ['why', 'src/x.js'], 1)).stdout).toContain('(patches recorded but not on disk: changes/execute.patch)');
  });

  it('names the instance of a foreach execute node, and its plan and spec instances', async () => {
    const features = ['alpha', 'beta'];
    const files: Record<string, string> = { '.gitignore': '.spx/\n' };
    for (const feature of features) files[`features/${feature}/USER-SPEC.md`] = `# ${feature}\n`;
    const project = createProject(
      files,
      `version: 1
defaults: { provider: echo, agent: claude }
providers:
  claude: { type: claude-code }
nodes:
  spec:
    kind: spec
    foreach: features/{feature}/USER-SPEC.md
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
    output: features/{feature}/execute.patch
`,
    );
    git(project.dir, 'init', '-q');
    git(project.dir, 'add', '-A');
    git(project.dir, 'commit', '-q', '-m', 'initial');
    const agent = new StandInAgent({
      byPrompt: features.map((feature) => ({ contains: `Plan feature ${feature}.`, edits: [{ [`src/${feature}.js`]: `exports.${feature} = 1;\n` }] })),
    });
    const built = await project.spx(['build', '--approve'], { env: agent.env() });
    expect(built.code, printed(built)).toBe(0);

    const why = (await spx(project, ['why', 'src/beta.js'], 0)).stdout;
    expect(why).toContain('src/beta.js was last changed by execute:beta (patch features/beta/execute.patch ');
    expect(why).toContain('from plan plan:beta: features/beta/AI-PLAN.md ');
    expect(why).toContain('from spec spec:beta: features/beta/AI-SPEC.md ');
    expect(why).not.toContain('alpha');
    await spx(project, ['check', 'execute:beta'], 0);
  });
});


describe('patchedFiles: the files a git patch touches, from its headers', () => {
  const section = (...lines: string[]): string => `${lines.join('\n')}\n`;

  it('a change, a new file, a deletion, a rename, a path git quotes', () => {
    const patch = [
      section('diff --git a/src/a b.js b/src/a b.js', 'index 1111111..2222222 100644', '--- a/src/a b.js', '+++ b/src/a b.js', '@@ -1 +1 @@', '-x', '+y'),
      section('diff --git a/new.js b/new.js', 'new file mode 100644', 'index 0000000..3333333', '--- /dev/null', '+++ b/new.js', '@@ -0,0 +1 @@', '+z'),
      section('diff --git a/old.js b/old.js', 'deleted file mode 100644', 'index 4444444..0000000', '--- a/old.js', '+++ /dev/null'),
      section('diff --git a/from.js b/to.js', 'similarity index 100%', 'rename from from.js', 'rename to to.js'),
      section('diff --git "a/caf\\303\\251.txt" "b/caf\\303\\251.txt"', 'index 5555555..6666666 100644', 'Binary files differ'),
    ].join('');
    expect(patchedFiles(patch)).toEqual([
      { from: 'src/a b.js', to: 'src/a b.js', postImage: '2222222' },
      { from: undefined, to: 'new.js', postImage: '3333333' },
      { from: 'old.js', to: undefined, postImage: undefined },
      { from: 'from.js', to: 'to.js', postImage: undefined },
      { from: 'café.txt', to: 'café.txt', postImage: '6666666' },
    ]);
    expect(patchedFiles('')).toEqual([]);
  });
});
