import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupProjects, createProject, statusOf, type SpxOptions, type TestProject } from './helpers/project.js';

afterEach(cleanupProjects);

const BUNDLE = '.spx/context/context.xml';

/** A project in a real git repository, everything committed on `main`; runs.log is ignored. */
function gitProject(files: Record<string, string>, yaml: string): TestProject {
  const project = createProject({ '.gitignore': 'runs.log\n', ...files }, yaml);
  git(project, 'init', '-q', '-b', 'main');
  commitAll(project, 'initial');
  return project;
}

function git(project: TestProject, ...args: string[]): string {
  const result = spawnSync('git', args, { cwd: project.dir, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`git ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout;
}

function commitAll(project: TestProject, message: string): void {
  git(project, 'add', '-A');
  git(project, '-c', 'user.name=spx tests', '-c', 'user.email=tests@spx.invalid', 'commit', '-q', '-m', message);
}

/** `spx build` that must succeed; returns what it printed. */
async function build(project: TestProject, options: SpxOptions = {}): Promise<string> {
  const result = await project.spx(['build'], options);
  expect(result.stderr).toBe('');
  expect(result.code, result.stdout).toBe(0);
  return result.stdout;
}

/** The files an XML bundle holds, in its order. */
function bundled(project: TestProject, bundle = BUNDLE): string[] {
  return [...project.read(bundle).matchAll(/^<file path="([^"]+)">$/gm)].map((match) => match[1]!);
}

/** One context node over these `files:` settings (YAML flow mapping). */
function contextOnly(files: string, extra = ''): string {
  return `version: 1
nodes:
  context:
    kind: context
    files: ${files}
${extra}`;
}

const SOURCES = {
  'src/a.ts': 'export const a = 1; // spec\n',
  'src/b.ts': 'export const b = 2;\n',
  'src/b.test.ts': 'import { b } from "./b"; // spec\n',
  'lib/c.ts': 'export const c = "plan";\n',
  'README.md': '# demo\n',
};

describe('context selection, one selector at a time', () => {
  it('by default bundles every file git does not ignore, tracked or not, but never spx.lock or .spx/', async () => {
    const project = gitProject({ ...SOURCES, '.gitignore': 'runs.log\nbuild/\n', 'build/out.js': 'ignored\n' }, contextOnly('{}'));
    project.write('untracked.txt', 'new\n');
    await build(project);
    expect(bundled(project).sort()).toEqual(['.gitignore', 'README.md', 'lib/c.ts', 'spx.yaml', 'src/a.ts', 'src/b.test.ts', 'src/b.ts', 'untracked.txt']);
    // spx.lock changed with that build; the bundle does not follow it.
    expect((await project.spx(['build'])).stdout).toContain('0 ran, 1 fresh');
  });

  it('include globs choose the base set', async () => {
    const project = gitProject(SOURCES, contextOnly('{ include: ["src/**/*.ts"] }'));
    await build(project);
    expect(bundled(project).sort()).toEqual(['src/a.ts', 'src/b.test.ts', 'src/b.ts']);
  });

  it('exclude globs remove files', async () => {
    const project = gitProject(SOURCES, contextOnly('{ exclude: ["**/*.test.ts", "*.md", ".gitignore", "spx.yaml"] }'));
    await build(project);
    expect(bundled(project).sort()).toEqual(['lib/c.ts', 'src/a.ts', 'src/b.ts']);
  });

  it('contains keeps the files whose content matches, and follows content changes', async () => {
    const project = gitProject(SOURCES, contextOnly('{ contains: "spec|plan" }'));
    await build(project);
    expect(bundled(project).sort()).toEqual(['lib/c.ts', 'spx.yaml', 'src/a.ts', 'src/b.test.ts']);
    // What each content said is remembered by hash in .spx/.
    expect(project.read('.spx/context-cache.json')).toContain('src/b.ts');

    project.write('src/b.ts', 'export const b = 2; // now part of the spec\n');
    project.write('lib/c.ts', 'export const c = 3;\n');
    await build(project);
    expect(bundled(project).sort()).toEqual(['spx.yaml', 'src/a.ts', 'src/b.test.ts', 'src/b.ts']);
  });

  it('changedSince keeps files the branch changed, committed or not, and new untracked files', async () => {
    const project = gitProject({ ...SOURCES, 'src/d.ts': 'export const d = 4;\n' }, contextOnly('{ include: ["src/**"], changedSince: main }'));
    git(project, 'checkout', '-q', '-b', 'feature');
    project.write('src/a.ts', 'export const a = 10;\n');
    commitAll(project, 'change a');
    project.write('src/b.ts', 'export const b = 20;\n');
    project.write('src/new.ts', 'export const n = 0;\n');
    project.write('lib/c.ts', 'export const c = 30;\n');
    await build(project);
    expect(bundled(project).sort()).toEqual(['src/a.ts', 'src/b.ts', 'src/new.ts']);
  });

  it('fromCommand adds the existing project files a command prints; include then defaults to nothing', async () => {
    const command = `printf 'src/a.ts\\n./README.md\\nmissing.ts\\n../outside.ts\\n%s/lib/c.ts\\n' "$PWD"`;
    const project = gitProject(SOURCES, contextOnly(`{ fromCommand: "${command.replace(/"/g, '\\"')}" }`));
    await build(project);
    expect(bundled(project).sort()).toEqual(['README.md', 'lib/c.ts', 'src/a.ts']);
  });

  it('fromCommand runs without holding up the build: a node that ends meanwhile is recorded while the command waits', async () => {
    // The command waits for spx to record "sleeper", which ends while the
    // context node is being selected; a synchronous command would block spx
    // until it gave up.
    const waiter = [
      'for i in $(seq 200); do',
      '  if grep -qs sleeper .spx/journal.jsonl spx.lock; then echo README.md; exit 0; fi',
      '  sleep 0.05',
      'done',
      'echo src/a.ts',
      '',
    ].join('\n');
    const project = gitProject(
      { ...SOURCES, 'wait-for-sleeper.sh': waiter },
      `version: 1
nodes:
  first:
    kind: run
    command: echo nothing > first.md
    outputs: [first.md]
  sleeper:
    kind: run
    command: sleep 1
  context:
    kind: context
    files: { fromOutput: first, fromCommand: "sh wait-for-sleeper.sh" }
`,
    );
    await build(project);
    expect(bundled(project)).toEqual(['README.md']);
  });

  it('fromOutput adds the files a plan names, after building the plan', async () => {
    const plan = [
      '# AI-PLAN',
      '1. In `src/a.ts` (line 1), export a second constant.',
      '2. Update src/b.ts:12 to use it; see [lib](lib/c.ts#L1).',
      '3. Create src/new.ts (does not exist yet) and mention README.',
    ].join('\n');
    const project = gitProject(
      { ...SOURCES, 'plan.md': plan + '\n' },
      `version: 1
nodes:
  context:
    kind: context
    files: { fromOutput: plan }
  plan:
    kind: run
    command: echo plan >> runs.log && cp plan.md AI-PLAN.md
    inputs: [plan.md]
    outputs: [AI-PLAN.md]
`,
    );
    await build(project);
    // The plan ran first though declared second: fromOutput orders it.
    expect(project.takeRuns()).toEqual(['plan']);
    expect(bundled(project).sort()).toEqual(['lib/c.ts', 'src/a.ts', 'src/b.ts']);

    // The plan now names other files: the selection follows.
    project.write('plan.md', 'Only `README.md` this time.\n');
    await build(project);
    expect(bundled(project)).toEqual(['README.md']);
  });
});

describe('context selection, combined', () => {
  it('(include ∩ contains) ∪ fromCommand ∪ fromOutput, minus exclude everywhere', async () => {
    const project = gitProject(
      {
        ...SOURCES,
        'src/e.ts': 'export const e = "spec";\n',
        'docs/x.md': 'docs\n',
        'docs/y.md': 'more docs\n',
        'plan.md': 'Touch lib/c.ts, src/b.ts and src/b.test.ts.\n',
      },
      `version: 1
nodes:
  context:
    kind: context
    files:
      include: ["src/**/*.ts"]
      exclude: ["**/*.test.ts", "docs/y.md"]
      contains: spec
      fromCommand: "echo docs/x.md; echo docs/y.md"
      fromOutput: plan
  plan:
    kind: run
    command: cp plan.md AI-PLAN.md
    inputs: [plan.md]
    outputs: [AI-PLAN.md]
`,
    );
    await build(project);
    // src/a.ts and src/e.ts: included and matching. src/b.ts: not matching,
    // but the plan names it (additions are not narrowed). src/b.test.ts
    // matches and is named, and is excluded all the same; so is docs/y.md.
    expect(bundled(project).sort()).toEqual(['docs/x.md', 'lib/c.ts', 'src/a.ts', 'src/b.ts', 'src/e.ts']);
  });

  it('changedSince narrows include but not the additions', async () => {
    const project = gitProject(SOURCES, contextOnly('{ include: ["src/**", "lib/**"], changedSince: HEAD, fromCommand: "echo README.md" }'));
    project.write('src/a.ts', 'export const a = 100;\n');
    await build(project);
    expect(bundled(project).sort()).toEqual(['README.md', 'src/a.ts']);
  });

  it('gitignore: false selects ignored files too', async () => {
    const project = gitProject({ ...SOURCES, '.gitignore': 'runs.log\nbuild/\n', 'build/out.js': 'ignored\n' }, contextOnly('{ include: ["build/**", "lib/**"], gitignore: false }'));
    await build(project);
    expect(bundled(project).sort()).toEqual(['build/out.js', 'lib/c.ts']);
  });

  it('outside a git work tree, the directory is walked and only node_modules/ and dist/ are left out', async () => {
    const project = createProject({ ...SOURCES, 'node_modules/dep/index.ts': 'dep\n', 'dist/a.ts': 'built\n', 'src/dist/x.ts': 'built\n' }, contextOnly('{ include: ["**/*.ts"], exclude: ["**/*.test.ts"] }'));
    await build(project);
    expect(bundled(project).sort()).toEqual(['lib/c.ts', 'src/a.ts', 'src/b.ts']);
  });

  it('in a git work tree without a .gitignore, node_modules/ and dist/ are left out; gitignore: false brings them back', async () => {
    const project = gitProject({ 'src/a.ts': 'a\n', 'node_modules/dep/index.js': 'dep\n', 'dist/a.js': 'built\n' }, contextOnly('{ include: ["**/*.js", "**/*.ts"] }'));
    await build(project);
    expect(bundled(project)).toEqual(['src/a.ts']);
    project.write('spx.yaml', contextOnly('{ include: ["**/*.js", "**/*.ts"], gitignore: false }'));
    await build(project);
    expect(bundled(project).sort()).toEqual(['dist/a.js', 'node_modules/dep/index.js', 'src/a.ts']);
  });

  it('a selector that cannot run fails the node with what went wrong', async () => {
    const project = gitProject(SOURCES, contextOnly('{ include: ["src/**"], changedSince: no-such-branch }'));
    const result = await project.spx(['build']);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('✗ context: files.changedSince: git cannot compare with "no-such-branch"');

    project.writeConfig(contextOnly('{ fromCommand: "echo oops >&2; exit 3" }'));
    const failed = await project.spx(['build']);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toContain('✗ context: files.fromCommand exited with code 3: echo oops >&2; exit 3: oops');
    const status = await statusOf(project);
    expect(status['context']!.reasons).toEqual([expect.stringContaining('cannot select inputs: files.fromCommand exited with code 3')]);
  });
});

/** A context node over src/, and a node downstream of it that logs its runs. */
const PIPELINE = `version: 1
nodes:
  context:
    kind: context
    files:
      include: ["src/**/*.ts"]
      exclude: ["**/*.test.ts"]
    repomix: { removeComments: true }
  downstream:
    kind: run
    needs: [context]
    command: echo downstream >> runs.log
`;

describe('context bundles and their dependents', () => {
  it('a change to an excluded file reruns nothing', async () => {
    const project = gitProject(SOURCES, PIPELINE);
    await build(project);
    expect(project.takeRuns()).toEqual(['downstream']);

    project.write('src/b.test.ts', 'import { b } from "./b"; // edited\n');
    project.write('README.md', '# edited, and never selected\n');
    expect(await build(project)).toContain('0 ran, 2 fresh');
    expect(project.takeRuns()).toEqual([]);
  });

  it('a comment change with removeComments rebuilds the bundle to the same bytes, and nothing downstream', async () => {
    const project = gitProject(SOURCES, PIPELINE);
    await build(project);
    project.takeRuns();
    const before = project.read(BUNDLE);

    project.write('src/a.ts', 'export const a = 1; // a different comment\n');
    const out = await build(project);
    expect(out).toMatch(/✓ context \(/);
    expect(out).toContain('1 ran, 1 fresh');
    expect(project.takeRuns()).toEqual([]);
    expect(project.read(BUNDLE)).toBe(before);

    // A code change does reach the dependents.
    project.write('src/a.ts', 'export const a = 2; // a different comment\n');
    await build(project);
    expect(project.takeRuns()).toEqual(['downstream']);
  });

  it('records the token count, and shows it in the build line and in spx status', async () => {
    const project = gitProject(SOURCES, PIPELINE);
    const out = await build(project);
    const metrics = (project.lock().nodes['context'] as unknown as { metrics: { tokens: number; files: number; bytes: number } }).metrics;
    expect(metrics.files).toBe(2);
    expect(metrics.tokens).toBeGreaterThan(100);
    expect(metrics.bytes).toBe(readFileSync(project.path(BUNDLE)).length);
    const tokens = `${metrics.tokens.toLocaleString('en-US')} tokens`;
    expect(out).toMatch(new RegExp(`✓ context \\(\\d+\\.\\d\\ds, ${tokens}, 2 files\\)`));

    const status = await project.spx(['status']);
    expect(status.stdout).toContain(`context     fresh (${tokens}, 2 files)`);
  });

  it('a bundle over maxTokens fails with its count and largest files, and is not written', async () => {
    const big = `export const big = [${Array.from({ length: 300 }, (_, i) => `"item${i}"`).join(', ')}];\n`;
    const project = gitProject({ ...SOURCES, 'src/big.ts': big }, PIPELINE.replace('removeComments: true }', 'removeComments: true }\n    maxTokens: 200'));
    const result = await project.spx(['build']);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/✗ context: the bundle has [\d,]+ tokens, over maxTokens \(200\); largest files:\n {4}src\/big\.ts: [\d,]+ tokens\n {4}src\/a\.ts: \d+ tokens\n {4}src\/b\.ts: \d+ tokens\n/);
    expect(result.stdout).toContain('narrow files.include or files.exclude, or turn on repomix.compress');
    expect(result.stdout).toContain('- downstream skipped: "context" failed');
    expect(project.exists(BUNDLE)).toBe(false);
  });

  it('leaves out and reports a file that repomix finds a secret in, without printing the secret', async () => {
    // Assembled here so that no secret scanner flags this test file.
    const key = ['AKIA', 'Z7VRSQ5TJVZ3QK4N'].join('');
    const secret = ['Uq2tNxd8a1pS0Yk3u9Fh', '7LmBv4cWz6Re5TgHj2Qo'].join('');
    const project = gitProject(
      { ...SOURCES, 'src/config.ts': `export const AWS_ACCESS_KEY_ID = "${key}";\nexport const AWS_SECRET_ACCESS_KEY = "${secret}";\n` },
      PIPELINE,
    );
    const out = await build(project);
    expect(out).toMatch(/left out src\/config\.ts: repomix's secret check found AWS/);
    expect(out).not.toContain(secret);
    expect(bundled(project)).not.toContain('src/config.ts');
    expect(project.read(BUNDLE)).not.toContain(secret);
    expect((project.lock().nodes['context'] as unknown as { metrics: { files: number } }).metrics.files).toBe(2);
  });

  it('the same selection gives byte-identical bundles in two checkouts at different paths', async () => {
    const files = { ...SOURCES, 'src/nested/deep.ts': 'export const deep = true;\n' };
    const yaml = PIPELINE.replace('{ removeComments: true }', '{ style: markdown, compress: true }').replace('context.xml', 'context.md');
    const first = gitProject(files, yaml);
    const second = gitProject(files, yaml);
    await build(first);
    await build(second);
    const bundle = '.spx/context/context.md';
    expect(first.read(bundle)).not.toContain(first.dir);
    expect(first.read(bundle)).toBe(second.read(bundle));
    expect(first.lock().nodes['context']!.fingerprint).toBe(second.lock().nodes['context']!.fingerprint);
  });

  it('a fresh or restored bundle does not load repomix', async () => {
    const project = gitProject(SOURCES, PIPELINE);
    const hooks = mkdtempSync(path.join(os.tmpdir(), 'spx-hooks-'));
    try {
      const log = path.join(hooks, 'loads.log');
      writeFileSync(
        path.join(hooks, 'hooks.mjs'),
        `import { appendFileSync } from 'node:fs';
export async function load(url, context, nextLoad) {
  if (url.includes('/node_modules/repomix/')) appendFileSync(${JSON.stringify(log)}, url + '\\n');
  return nextLoad(url, context);
}
`,
      );
      writeFileSync(path.join(hooks, 'register.mjs'), `import { register } from 'node:module';\nregister('./hooks.mjs', import.meta.url);\n`);
      const env = { NODE_OPTIONS: `--import=${path.join(hooks, 'register.mjs')}` };
      const loads = (): string[] => {
        try {
          return readFileSync(log, 'utf8').split('\n').filter(Boolean);
        } catch {
          return [];
        }
      };

      await build(project, { env });
      // The hook sees repomix when it is needed...
      expect(loads().some((url) => url.endsWith('/node_modules/repomix/lib/index.js'))).toBe(true);
      rmSync(log);

      // ...and not on a no-op build, nor for status,
      expect(await build(project, { env })).toContain('0 ran, 2 fresh');
      expect((await project.spx(['status'], { env })).code).toBe(0);
      expect(loads()).toEqual([]);

      // nor when the bundle comes back from the cache.
      rmSync(project.path(BUNDLE));
      expect(await build(project, { env })).toContain('↺ context restored from cache');
      expect(loads()).toEqual([]);
    } finally {
      rmSync(hooks, { recursive: true, force: true });
    }
  });
});

describe('context node configuration', () => {
  it('reports an unknown fromOutput node where it is written', async () => {
    const project = createProject({}, contextOnly('{ fromOutput: plna }', '  plan:\n    kind: run\n    command: "true"\n'));
    const result = await project.spx(['validate']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('spx.yaml:5:26: error: unknown node "plna" in files.fromOutput of node "context" (did you mean "plan"?)');
  });

  it('reports an invalid contains regex and an unknown repomix option', async () => {
    const project = createProject({}, contextOnly('{ contains: "spec(" }', '    repomix: { style: xml, copyToClipboard: true }\n'));
    const result = await project.spx(['validate']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown key "copyToClipboard" in nodes.context.repomix');
    // Schema errors come first; the regex is checked once the shapes are right.
    project.writeConfig(contextOnly('{ contains: "spec(" }'));
    const second = await project.spx(['validate']);
    expect(second.stderr).toContain('spx.yaml:5:24: error: files.contains of node "context" is not a valid regular expression: /spec(/: Unterminated group');
  });

  it('reports a cycle through fromOutput where fromOutput is written', async () => {
    const project = createProject(
      {},
      `version: 1
nodes:
  plan:
    kind: run
    command: "true"
    uses: [context]
  context:
    kind: context
    files: { fromOutput: plan }
`,
    );
    const result = await project.spx(['validate']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('spx.yaml:9:26: error: cycle: plan -> context -> plan');
  });

  it('refuses inputs on a context node: the selection is its input', async () => {
    const project = createProject({}, contextOnly('{}', '    inputs: [a.txt]\n'));
    const result = await project.spx(['validate']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown key "inputs" in node "context"');
  });
});
