import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupProjects, createProject, statusOf, type TestProject } from './helpers/project.js';

afterEach(cleanupProjects);

const PIPELINE = `version: 1
nodes:
  gen:
    kind: run
    command: echo gen >> runs.log && cp in.txt gen.out
    inputs: [in.txt]
    outputs: [gen.out]
    env: [MODE]
  pack:
    kind: run
    command: echo pack >> runs.log && cat gen.out gen.out > pack.out
    needs: [gen]
    outputs: [pack.out]
`;

const ENV = { MODE: 'fast' };

/** A node after `pack`, appended to PIPELINE where a test needs one. */
const SHIP = `  ship:
    kind: run
    command: echo ship >> runs.log && cp pack.out ship.out
    needs: [pack]
    outputs: [ship.out]
`;

async function built(): Promise<TestProject> {
  const project = createProject({ 'in.txt': 'one\n' }, PIPELINE);
  const result = await project.spx(['build'], { env: ENV });
  expect(result.code, result.stdout + result.stderr).toBe(0);
  project.takeRuns();
  return project;
}

describe('spx status --json says, for each node, whether it is fresh and why not', () => {
  it('reports every node fresh after a build, and changes nothing', async () => {
    const project = await built();
    const lock = project.lockText();
    expect(await statusOf(project, { env: ENV })).toEqual({
      gen: { state: 'fresh', reasons: [] },
      pack: { state: 'fresh', reasons: [] },
    });
    project.write('in.txt', 'two\n');
    await statusOf(project, { env: ENV });
    expect(project.lockText()).toBe(lock);
    expect(project.takeRuns()).toEqual([]);
  });

  it('never built', async () => {
    const project = createProject({ 'in.txt': 'one\n' }, PIPELINE);
    expect(await statusOf(project, { env: ENV })).toEqual({
      gen: { state: 'stale', reasons: ['never built'] },
      pack: { state: 'stale', reasons: ['never built', '"gen" would run first (its output may change)'] },
    });
  });

  it('input changed, naming the file', async () => {
    const project = await built();
    project.write('in.txt', 'two\n');
    expect((await statusOf(project, { env: ENV })).gen).toEqual({ state: 'stale', reasons: ['input changed: in.txt'] });
  });

  it('setting "command" changed', async () => {
    const project = await built();
    project.writeConfig(PIPELINE.replace('cat gen.out gen.out > pack.out', 'cat gen.out > pack.out'));
    expect(await statusOf(project, { env: ENV })).toEqual({
      gen: { state: 'fresh', reasons: [] },
      pack: { state: 'stale', reasons: ['setting "command" changed'] },
    });
  });

  it('output of an upstream node changed', async () => {
    const project = await built();
    project.write('in.txt', 'two\n');
    expect((await project.spx(['build', 'gen'], { env: ENV })).code).toBe(0);
    expect(project.takeRuns()).toEqual(['gen']);
    expect((await statusOf(project, { env: ENV })).pack).toEqual({ state: 'stale', reasons: ['output of "gen" changed'] });
  });

  it('output missing, after it was deleted', async () => {
    const project = await built();
    rmSync(project.path('pack.out'));
    expect((await statusOf(project, { env: ENV })).pack).toEqual({ state: 'stale', reasons: ['output pack.out missing'] });
  });

  it('an output edited by hand is kept: its node stays fresh and names it; its dependents see the change', async () => {
    const project = createProject({ 'in.txt': 'one\n' }, PIPELINE.replace('    outputs: [pack.out]\n', '    outputs: [pack.out]\n' + SHIP));
    expect((await project.spx(['build'], { env: ENV })).code).toBe(0);
    project.takeRuns();
    project.write('pack.out', 'edited by hand\n');
    const result = await project.spx(['status', '--json'], { env: ENV });
    const nodes = (JSON.parse(result.stdout) as { nodes: { name: string }[] }).nodes;
    expect(nodes.find((n) => n.name === 'pack')).toMatchObject({ state: 'fresh', reasons: [], handEdited: ['pack.out'] });
    expect(nodes.find((n) => n.name === 'ship')).toMatchObject({ state: 'stale', reasons: ['output of "pack" changed'] });

    expect((await project.spx(['build'], { env: ENV })).code).toBe(0);
    expect(project.takeRuns()).toEqual(['ship']);
    expect(project.read('ship.out')).toBe('edited by hand\n');
  });

  it('environment variable changed', async () => {
    const project = await built();
    expect((await statusOf(project, { env: { MODE: 'slow' } })).gen).toEqual({
      state: 'stale',
      reasons: ['environment variable MODE changed'],
    });
  });

  it('says the same in plain text', async () => {
    const project = await built();
    project.write('in.txt', 'two\n');
    const result = await project.spx(['status'], { env: ENV });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^gen\s+stale\n\s+input changed: in.txt\n/);
    expect(result.stdout).toContain('2 of 2 nodes are stale');
  });
});
