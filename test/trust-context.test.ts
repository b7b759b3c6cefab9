import { execFileSync } from 'node:child_process';
import { lstatSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { displayName } from '../src/files/file-name.js';
import { git } from './helpers/agents.js';
import { cleanupCacheDirs, commitAll, tempDir } from './helpers/cache.js';
import { cleanupProjects, createProject, type TestProject } from './helpers/project.js';

afterEach(async () => {
  await cleanupProjects();
  cleanupCacheDirs();
});

const BUNDLE = '.spx/context/context.xml';

/** A file outside the project holding a string unique to this test. */
function outsideSecret(): { dir: string; file: string; secret: string } {
  const dir = tempDir('spx-outside-');
  const secret = `outside-secret-${Math.random().toString(36).slice(2)}`;
  const file = path.join(dir, 'secret.md');
  writeFileSync(file, `${secret}\n`);
  return { dir, file, secret };
}

/** Every regular file below the project, symlinks not followed: where a leaked secret would land. */
function filesHolding(project: TestProject, text: string): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const file = path.join(dir, name);
      const stats = lstatSync(file);
      if (stats.isDirectory()) walk(file);
      else if (stats.isFile() && readFileSync(file).includes(text)) found.push(path.relative(project.dir, file));
    }
  };
  walk(project.dir);
  return found;
}

/** `spx build` that must succeed; returns what it printed. */
async function build(project: TestProject): Promise<string> {
  const result = await project.spx(['build']);
  expect(result.stderr).toBe('');
  expect(result.code, result.stdout).toBe(0);
  return result.stdout;
}

const REHEARSAL = `version: 1
providers:
  offline: { type: echo }
defaults: { provider: offline }
nodes:
  context:
    kind: context
    files: {}
  spec: { kind: spec, inputs: [USER-SPEC.md], uses: [context], output: AI-SPEC.md }
`;

/** A name that is not valid UTF-8: `\xffA.txt` in `dir`. */
function writeNonUtf8(project: TestProject, dir: string): void {
  writeFileSync(Buffer.concat([Buffer.from(project.path(dir) + '/'), Buffer.from([0xff, 0x41]), Buffer.from('.txt')]), 'x\n');
}

describe('context selection stays inside the project', () => {
  it('leaves out a committed symlink to a file outside, names it, and sends it nowhere', async () => {
    const outside = outsideSecret();
    const project = createProject({ 'README.md': '# demo\n', 'USER-SPEC.md': 'Build a thing.\n' }, REHEARSAL);
    symlinkSync(outside.file, project.path('notes.md'));
    // A name that would clear the terminal if printed as is.
    symlinkSync(outside.file, project.path('evil\x1b[2J\n.md'));
    // A symlink that stays inside the project is an ordinary file.
    symlinkSync('README.md', project.path('alias.md'));
    commitAll(project);

    const out = await build(project);
    expect(out).toMatch(/left out notes\.md: its real path is outside the project/);
    expect(out).toContain('left out "evil\\u001b[2J\\n.md": its real path is outside the project');
    expect(out).not.toContain('\x1b');
    const bundle = project.read(BUNDLE);
    expect(bundle).toContain('<file path="alias.md">');
    expect(bundle).not.toContain('<file path="notes.md">');
    expect(project.read('.spx/prompts/spec.md')).toContain('<file path="alias.md">');
    // Not in the bundle, the prompt log, the cache, spx.lock or anywhere else spx wrote.
    expect(filesHolding(project, outside.secret)).toEqual([]);
  });

  it('leaves out the files of a symlinked directory that leads outside', async () => {
    const outside = outsideSecret();
    // No git: the selection walks the directories itself.
    const project = createProject({ 'docs/inside.md': 'inside\n' }, `version: 1
nodes:
  context:
    kind: context
    files: { include: ["docs/**", "linked/**"] }
`);
    symlinkSync(outside.dir, project.path('linked'));
    const out = await build(project);
    expect(out).toMatch(/left out linked\/secret\.md: its real path is outside the project/);
    expect(project.read(BUNDLE)).toContain('<file path="docs/inside.md">');
    expect(filesHolding(project, outside.secret)).toEqual([]);
  });

  it('a spec node refuses an input symlinked outside the project, and sends nothing', async () => {
    const outside = outsideSecret();
    const project = createProject(
      { 'USER-SPEC.md': 'Build a thing.\n' },
      `version: 1
providers:
  offline: { type: echo }
defaults: { provider: offline }
nodes:
  spec: { kind: spec, inputs: [USER-SPEC.md, notes.md], output: AI-SPEC.md }
`,
    );
    symlinkSync(outside.file, project.path('notes.md'));
    const result = await project.spx(['build']);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/✗ spec: input notes\.md leads outside the project/);
    expect(project.exists('AI-SPEC.md')).toBe(false);
    expect(filesHolding(project, outside.secret)).toEqual([]);
  });

  it('a FIFO matched by a selection or a glob neither hangs the build nor is read, and is named', async () => {
    const project = createProject({ 'src/a.ts': 'export const a = 1;\n' }, `version: 1
nodes:
  context:
    kind: context
    files: { include: ["src/**"] }
  use:
    kind: run
    command: echo use >> runs.log
    inputs: ["src/**"]
    # After the bundle, not beside it: only what each node leaves out is under test.
    uses: [context]
`);
    execFileSync('mkfifo', [project.path('src/pipe.ts')]);
    symlinkSync('pipe.ts', project.path('src/link.ts'));
    const out = await build(project);
    expect(out).toMatch(/! context: left out src\/link\.ts: not a regular file/);
    // A glob matches what is there: no permanent "input file not found".
    expect(out).toMatch(/! use: left out src\/link\.ts: matched by a glob, but not a regular file/);
    expect(project.takeRuns()).toEqual(['use']);
    expect(project.read(BUNDLE)).toContain('<file path="src/a.ts">');
    expect(project.read(BUNDLE)).not.toContain('src/pipe.ts');
  }, 20_000);
});

describe('file names are data, whatever bytes they hold', () => {
  it('a run node whose glob matches a non-UTF-8 name builds, names it, and is then fresh', async () => {
    const project = createProject({ 'data/ok.txt': 'ok\n' }, `version: 1
nodes:
  use:
    kind: run
    command: echo use >> runs.log
    inputs: ["data/*.txt"]
`);
    writeNonUtf8(project, 'data');
    const out = await build(project);
    expect(out).toContain('data/\\xffA.txt');
    expect(out).toMatch(/not valid UTF-8/);
    expect(project.takeRuns()).toEqual(['use']);
    expect(await build(project)).toContain('0 ran, 1 fresh');
    expect(project.takeRuns()).toEqual([]);
  });

  it('a context node whose glob matches a non-UTF-8 name builds without it and names it', async () => {
    const project = createProject({ 'data/ok.txt': 'ok\n' }, `version: 1
nodes:
  context:
    kind: context
    files: { include: ["data/**"] }
`);
    writeNonUtf8(project, 'data');
    commitAll(project);
    const out = await build(project);
    expect(out).toMatch(/left out "?data\/\\xffA\.txt"?: its name is not valid UTF-8/);
    expect(project.read(BUNDLE)).toContain('<file path="data/ok.txt">');
    expect(await build(project)).toContain('0 ran, 1 fresh');
  });

  it('a name with a newline is bundled and hashed like any other', async () => {
    const project = createProject({ 'data/ok.txt': 'ok\n', 'data/a\nb.txt': 'first-content\n' }, `version: 1
nodes:
  context:
    kind: context
    files: { include: ["data/**"] }
  use:
    kind: run
    command: echo use >> runs.log
    inputs: ["data/**"]
`);
    commitAll(project);
    expect(git(project.dir, 'ls-files', '-z')).toContain('data/a\nb.txt');
    await build(project);
    expect(project.read(BUNDLE)).toContain('first-content');
    expect(project.takeRuns()).toEqual(['use']);

    project.write('data/a\nb.txt', 'second-content\n');
    expect(await build(project)).toContain('2 ran');
    expect(project.read(BUNDLE)).toContain('second-content');
    expect(project.takeRuns()).toEqual(['use']);
    expect(await build(project)).toContain('0 ran, 2 fresh');
  });
});

describe('displayName', () => {
  it('prints any name on one line, plain when it is plain, escaped otherwise', () => {
    expect(displayName('src/a.ts')).toBe('src/a.ts');
    expect(displayName('a b.txt')).toBe('"a b.txt"');
    expect(displayName('a\nb.txt')).toBe('"a\\nb.txt"');
    expect(displayName('x\x1b[31m\u009b\u202e.md')).toBe('"x\\u001b[31m\\u009b\\u202e.md"');
    expect(displayName(Buffer.from([0x64, 0x2f, 0xff, 0x41, 0xc3, 0xa9, 0xc3]))).toBe('"d/\\xffAé\\xc3"');
    expect(displayName(Buffer.from('café.md'))).toBe('café.md');
  });
});
