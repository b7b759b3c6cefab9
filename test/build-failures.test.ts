import { afterEach, describe, expect, it } from 'vitest';
import { cleanupProjects, createProject, statusOf } from './helpers/project.js';

afterEach(cleanupProjects);

/** prep → check → publish, where check fails until spx.yaml is fixed. */
function chain(checkCommand: string): string {
  return `version: 1
nodes:
  prep:
    kind: run
    command: echo prep >> runs.log && cp in.txt prep.out
    inputs: [in.txt]
    outputs: [prep.out]
  check:
    kind: run
    command: echo check >> runs.log && ${checkCommand}
    needs: [prep]
    outputs: [check.out]
  publish:
    kind: run
    command: echo publish >> runs.log && cp check.out publish.out
    needs: [check]
    outputs: [publish.out]
`;
}

describe('failures', () => {
  it('a failed node exits 1, skips its dependents, and keeps the finished work for the next build', async () => {
    const project = createProject({ 'in.txt': 'data\n' }, chain('echo "3 problems found" >&2; exit 1'));
    const failed = await project.spx(['build']);
    expect(failed.code).toBe(1);
    expect(project.takeRuns()).toEqual(['prep', 'check']);
    expect(failed.stdout).toContain('3 problems found');
    expect(failed.stdout).toMatch(/✗ check: command exited with code 1/);
    expect(failed.stdout).toMatch(/publish skipped: "check" failed/);
    expect(Object.keys(project.lock().nodes)).toEqual(['prep']);
    expect(project.exists('publish.out')).toBe(false);

    project.writeConfig(chain('cp prep.out check.out'));
    const fixed = await project.spx(['build']);
    expect(fixed.code, fixed.stdout + fixed.stderr).toBe(0);
    expect(project.takeRuns()).toEqual(['check', 'publish']);
    expect(project.read('publish.out')).toBe('data\n');
  });

  it('--keep-going builds the branches that do not depend on the failure; without it the build stops', async () => {
    const yaml = `version: 1
nodes:
  broken:
    kind: run
    command: echo broken >> runs.log && exit 3
    outputs: [broken.out]
  after:
    kind: run
    command: echo after >> runs.log && touch after.out
    needs: [broken]
    outputs: [after.out]
  one:
    kind: run
    command: echo one >> runs.log && echo 1 > one.out
    outputs: [one.out]
  two:
    kind: run
    command: echo two >> runs.log && cat one.out one.out > two.out
    needs: [one]
    outputs: [two.out]
`;
    // One job at a time, in declaration order: `broken` runs first.
    const stopping = createProject({}, yaml);
    const stopped = await stopping.spx(['build', '-j', '1']);
    expect(stopped.code).toBe(1);
    expect(stopping.takeRuns()).toEqual(['broken']);
    expect(stopped.stdout).toContain('exited with code 3');

    const going = createProject({}, yaml);
    const kept = await going.spx(['build', '-j', '1', '--keep-going']);
    expect(kept.code).toBe(1);
    expect(going.takeRuns().sort()).toEqual(['broken', 'one', 'two']);
    expect(kept.stdout).toMatch(/after skipped: "broken" failed/);
    expect(Object.keys(going.lock().nodes).sort()).toEqual(['one', 'two']);
    expect(going.read('two.out')).toBe('1\n1\n');
  });

  it('a command that succeeds without writing a declared output fails the node, naming the output', async () => {
    const project = createProject(
      {},
      `version: 1
nodes:
  forgetful:
    kind: run
    command: echo forgetful >> runs.log && echo wrote the wrong file > elsewhere.out
    outputs: [report.txt]
  reader:
    kind: run
    command: echo reader >> runs.log && cat report.txt > reader.out
    needs: [forgetful]
    outputs: [reader.out]
`,
    );
    const result = await project.spx(['build']);
    expect(result.code).toBe(1);
    expect(project.takeRuns()).toEqual(['forgetful']);
    expect(result.stdout).toContain('✗ forgetful: the command succeeded but did not write the declared output report.txt');
    expect(result.stdout).toMatch(/reader skipped/);
    // Not recorded: the next build tries again.
    expect((await statusOf(project)).forgetful).toEqual({ state: 'stale', reasons: ['never built'] });
  });
});
