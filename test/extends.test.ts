import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadPipeline } from '../src/config/load.js';
import { pipelineNames } from '../src/config/pipelines.js';
import { UserErrors, type UserError } from '../src/util/errors.js';
import { readSealed, writeSealed } from './helpers/sealed.js';
import { cleanupProjects, createProject } from './helpers/project.js';

const dirs: string[] = [];
afterEach(async () => {
  await cleanupProjects();
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'spx-extends-'));
  dirs.push(dir);
  return dir;
}

/**
 * A base pipeline in a pipelines directory of the test's own, so that the
 * test may change it. Its name must be one the schema admits for extends.
 */
const BASE_NAME = 'plan-only';
const BASE = [
  'version: 1',
  'vars:',
  '  spec: USER-SPEC.md',
  '  answer: AI-SPEC.md',
  'providers:',
  '  model: { type: gemini, model: gemini-2.5-pro }',
  '  offline: { type: echo }',
  'defaults:',
  '  provider: model',
  '  env: [CI]',
  'nodes:',
  '  context:',
  '    kind: context',
  '  spec:',
  '    kind: spec',
  '    inputs: ["${vars.spec}"]',
  '    uses: [context]',
  '    output: ${vars.answer}',
  '  plan:',
  '    kind: plan',
  '    needs: [spec]',
  '    uses: [context]',
  '    output: AI-PLAN.md',
];

interface Fixture {
  file: string;
  base: string;
  pipelinesDir: string;
}

/** A project whose spx.yaml is these lines, extending BASE (or the given base lines). */
async function fixture(project: string[], base: string[] = BASE): Promise<Fixture> {
  const pipelinesDir = await tempDir();
  const basePath = path.join(pipelinesDir, `${BASE_NAME}.yaml`);
  await writeFile(basePath, base.join('\n') + '\n');
  const file = path.join(await tempDir(), 'spx.yaml');
  await writeFile(file, project.join('\n') + '\n');
  return { file, base: basePath, pipelinesDir };
}

async function load(f: Fixture) {
  return (await loadPipeline(f.file, { pipelinesDir: f.pipelinesDir })).config;
}

async function loadErrors(f: Fixture): Promise<UserError[]> {
  try {
    await load(f);
  } catch (error) {
    expect(error).toBeInstanceOf(UserErrors);
    return (error as UserErrors).errors;
  }
  throw new Error('expected the pipeline to be rejected');
}

describe('extends: the project starts from a ready pipeline and overrides it', () => {
  it('a file that extends may leave out nodes: it gets the base pipeline as it is', async () => {
    const config = await load(await fixture(['version: 1', `extends: ${BASE_NAME}`]));
    expect(Object.keys(config.nodes)).toEqual(['context', 'spec', 'plan']);
    expect(config.nodes['spec']).toMatchObject({ kind: 'spec', inputs: ['USER-SPEC.md'], output: 'AI-SPEC.md', provider: { name: 'model', type: 'gemini' } });
    expect(config.nodes['plan']).toMatchObject({ review: true, env: ['CI'] });
  });

  it('a node of the same name replaces the base node whole, keeping its place; new nodes follow the base\'s', async () => {
    const config = await load(
      await fixture([
        'version: 1',
        `extends: ${BASE_NAME}`,
        'nodes:',
        '  lint:',
        '    kind: run',
        '    command: npm run lint',
        '  plan:',
        '    kind: plan',
        '    needs: [spec]',
        '    output: PLAN.md',
        '    review: false',
      ]),
    );
    expect(Object.keys(config.nodes)).toEqual(['context', 'spec', 'plan', 'lint']);
    // Not merged: the base's `uses: [context]` is gone with the base node.
    expect(config.nodes['plan']).toMatchObject({ kind: 'plan', needs: ['spec'], uses: [], output: 'PLAN.md', review: false });
    expect(config.nodes['lint']).toMatchObject({ kind: 'run', command: 'npm run lint', env: ['CI'] });
  });

  it('providers, vars and defaults entries replace the base\'s by key; the others stay', async () => {
    const config = await load(
      await fixture([
        'version: 1',
        `extends: ${BASE_NAME}`,
        'providers:',
        '  model: { type: command, command: [llm, -m, local] }',
        'vars:',
        '  answer: SPEC.md',
        'defaults:',
        '  env: [HOME]',
      ]),
    );
    expect(Object.keys(config.providers)).toEqual(['model', 'offline']);
    expect(config.nodes['spec']).toMatchObject({
      // The var the project replaced, and the one it left.
      inputs: ['USER-SPEC.md'],
      output: 'SPEC.md',
      // The provider the project replaced, under the name the base's nodes use.
      provider: { name: 'model', type: 'command', command: ['llm', '-m', 'local'] },
      // defaults.env replaced (not added to); defaults.provider kept.
      env: ['HOME'],
    });
  });

  it('errors in the project file point into the project file', async () => {
    const f = await fixture([
      'version: 1',
      `extends: ${BASE_NAME}`,
      'nodes:',
      '  plan:',
      '    kind: plan',
      '    needs: [spec, ghost]',
      '    output: PLAN.md',
      '  lint:',
      '    kind: run',
      '    comand: npm run lint',
    ]);
    const errors = await loadErrors(f);
    expect(errors.map((e) => e.location)).toEqual([
      { file: f.file, line: 8, column: 3 },
      { file: f.file, line: 10, column: 5 },
    ]);
    expect(errors[1]!.message).toContain('unknown key "comand" in node "lint"');

    await writeFile(f.file, ['version: 1', `extends: ${BASE_NAME}`, 'nodes:', '  plan:', '    kind: plan', '    needs: [spec, ghost]', '    output: PLAN.md', ''].join('\n'));
    const [unknown, ...rest] = await loadErrors(f);
    expect(rest).toEqual([]);
    expect(unknown!.location).toEqual({ file: f.file, line: 6, column: 19 });
    expect(unknown!.message).toContain('unknown node "ghost" in needs of node "plan"');
  });

  it('an error in what the project left to the base points into the base file', async () => {
    const broken = BASE.map((line) => (line === '    needs: [spec]' ? '    needs: [spek]' : line));
    const f = await fixture(['version: 1', `extends: ${BASE_NAME}`, 'providers:', '  offline: { type: echo }'], broken);
    const errors = await loadErrors(f);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.location).toEqual({ file: f.base, line: broken.indexOf('    needs: [spek]') + 1, column: 13 });
    expect(errors[0]!.message).toContain('unknown node "spek" in needs of node "plan" (did you mean "spec"?)');
  });

  it('an unknown name is an error at its place in the project file, listing the pipelines spx ships', async () => {
    const f = await fixture(['version: 1', 'extends: plan-onyl']);
    const errors = await loadErrors(f);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.location).toEqual({ file: f.file, line: 2, column: 10 });
    expect(errors[0]!.message).toBe(`extends must be one of: ${pipelineNames().join(', ')} (got "plan-onyl"; did you mean "plan-only"?)`);
  });

  it('without extends, nodes are required', async () => {
    const f = await fixture(['version: 1', 'vars: { a: b }']);
    const errors = await loadErrors(f);
    expect(errors.map((e) => e.message)).toEqual(['the pipeline is missing required key "nodes" (or "extends: NAME", to start from a ready pipeline)']);
  });

  it('the config cache notices a change of the base pipeline', async () => {
    const f = await fixture(['version: 1', `extends: ${BASE_NAME}`]);
    const cacheFile = path.join(path.dirname(f.file), '.spx', 'config-cache.json');
    expect((await load(f)).nodes['plan']).toMatchObject({ output: 'AI-PLAN.md' });
    const entry = readSealed(cacheFile);
    expect(entry.sources).toEqual([{ file: f.base, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) }]);

    // Unchanged base: a hit (the planted value proves it came from the cache).
    entry.config.nodes.plan.output = 'served from the cache';
    writeSealed(cacheFile, entry);
    expect((await load(f)).nodes['plan']).toMatchObject({ output: 'served from the cache' });

    // The same spx.yaml text over a changed base: a miss.
    await writeFile(f.base, BASE.join('\n').replace('output: AI-PLAN.md', 'output: NEW-PLAN.md') + '\n');
    expect((await load(f)).nodes['plan']).toMatchObject({ output: 'NEW-PLAN.md' });
  });
});

describe('extends with the shipped pipelines', () => {
  it('a project that extends spec-plan-execute and points its providers at echo rehearses it with a plain spx build', async () => {
    const p = createProject(
      { 'USER-SPEC.md': '# Goal\n\nGreet in Italian.\n', 'src/greet.js': 'export const greet = () => "Hello";\n' },
      ['version: 1', 'extends: spec-plan-execute', 'providers:', '  gemini: { type: echo }', ''].join('\n'),
    );
    const graph = await p.spx(['graph', '--format', 'json']);
    expect(graph.code, graph.stderr).toBe(0);
    expect((JSON.parse(graph.stdout) as { nodes: { name: string }[] }).nodes.map((n) => n.name)).toEqual(['context', 'spec', 'plan-context', 'plan', 'plan-files', 'execute']);

    const build = await p.spx(['build']);
    expect(build.code, build.stdout + build.stderr).toBe(3);
    expect(p.read('AI-PLAN.md')).toContain('offline rehearsal');
  });

  it('spx validate reports an error in the project file at its line and column', async () => {
    const p = createProject({}, ['version: 1', 'extends: spec-plan-execute', 'nodes:', '  execute:', '    kind: execute', '    needs: [plann]', '    output: change.patch', ''].join('\n'));
    const result = await p.spx(['validate']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('spx.yaml:6:13: error: unknown node "plann" in needs of node "execute" (did you mean "plan"?)\n');
  });
});
