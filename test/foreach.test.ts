import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadPipeline } from '../src/config/load.js';
import { UserErrors } from '../src/util/errors.js';
import { FakeGemini } from './helpers/fake-gemini.js';
import { spawn } from 'node:child_process';
import { cleanupProjects, createProject, SPX_BIN, waitFor, type SpxOptions, type SpxResult, type TestProject } from './helpers/project.js';

let fake: FakeGemini;
let env: SpxOptions;

beforeEach(async () => {
  fake = new FakeGemini();
  await fake.start();
  env = { env: { GEMINI_API_KEY: `test-key-${randomBytes(8).toString('hex')}`, SPX_RETRY_BASE_MS: '10' } };
});

afterEach(async () => {
  await cleanupProjects();
  await fake.stop();
});

/** Spec, plan and a run node per feature, and a changelog of all features (fan-in). */
function pipeline(): string {
  return `version: 1
providers:
  gemini: { type: gemini, model: gemini-test, baseUrl: "${fake.url}", retries: 0 }
defaults: { provider: gemini }
nodes:
  context: { kind: run, command: "cat src/*.ts > bundle.txt", inputs: ["src/**/*.ts"], outputs: [bundle.txt] }
  spec:
    kind: spec
    foreach: features/{feature}/USER-SPEC.md
    inputs: ["features/{feature}/USER-SPEC.md"]
    uses: [context]
    output: features/{feature}/AI-SPEC.md
  plan:
    kind: plan
    foreach: features/{feature}/USER-SPEC.md
    needs: [spec]
    uses: [context]
    output: features/{feature}/AI-PLAN.md
  impl:
    kind: run
    foreach: features/{feature}/USER-SPEC.md
    description: carry out {feature}
    needs: [plan]
    command: "echo {feature} >> runs.log && mkdir -p out && cp features/{feature}/AI-PLAN.md out/{feature}.txt"
    outputs: ["out/{feature}.txt"]
  changelog:
    kind: run
    needs: [impl]
    command: "echo changelog >> runs.log && (cat out/*.txt 2>/dev/null || true) > CHANGELOG.md"
    outputs: [CHANGELOG.md]
`;
}

let answerCount = 0;
/** Answers that differ from every other, so that a regenerated spec changes and its plan follows. */
function distinctAnswers(count: number): void {
  for (let i = 0; i < count; i++) fake.enqueue({ answer: `# Answer ${++answerCount}\n` });
}

function spec(feature: string, text = `Build the ${feature} feature.`): string {
  return `# ${feature}\n\n${text}\n`;
}

function project(features: string[]): TestProject {
  const files: Record<string, string> = { 'src/app.ts': 'export const app = 1;\n' };
  for (const feature of features) files[`features/${feature}/USER-SPEC.md`] = spec(feature);
  return createProject(files, pipeline());
}

function printed(result: SpxResult): string {
  return result.stdout + result.stderr;
}

async function spx(p: TestProject, args: string[], code: number): Promise<SpxResult> {
  const result = await p.spx(args, env);
  expect(result.code, printed(result)).toBe(code);
  return result;
}

/** Which feature each model call since `from` was about, read from the files its prompt names. */
function callsAbout(from: number): string[] {
  return fake.requests.slice(from).map((request) => {
    const prompt = request.body.contents.flatMap((content) => content.parts.map((part) => part.text)).join('');
    const features = new Set([...prompt.matchAll(/features\/(\w+)\//g)].map((match) => match[1]!));
    return features.size === 1 ? [...features][0]! : `? ${[...features].join(',')}`;
  });
}

/** Three features built and approved, the runs log emptied. */
async function threeFeatures(): Promise<TestProject> {
  const p = project(['alpha', 'beta', 'gamma']);
  await spx(p, ['build', '--approve'], 0);
  expect(callsAbout(0).sort()).toEqual(['alpha', 'alpha', 'beta', 'beta', 'gamma', 'gamma']);
  expect(p.takeRuns().sort()).toEqual(['alpha', 'beta', 'changelog', 'gamma']);
  return p;
}

describe('foreach: one instance per feature', () => {
  it('builds every feature, records each instance in spx.lock, and fans in to a plain node', async () => {
    const p = await threeFeatures();
    const nodes = Object.keys(p.lock().nodes).sort();
    expect(nodes).toEqual(['changelog', 'context', 'impl:alpha', 'impl:beta', 'impl:gamma', 'plan:alpha', 'plan:beta', 'plan:gamma', 'spec:alpha', 'spec:beta', 'spec:gamma']);
    expect(p.read('out/beta.txt')).toBe(p.read('features/beta/AI-PLAN.md'));
    expect(p.exists('features/gamma/AI-SPEC.md')).toBe(true);
    await spx(p, ['build'], 0);
    expect(fake.calls).toBe(6);
    expect(p.takeRuns()).toEqual([]);
  });

  it("an edit of one feature's USER-SPEC.md makes exactly its two model calls and stops at its own review gate", async () => {
    const p = await threeFeatures();
    p.write('features/beta/USER-SPEC.md', spec('beta', 'Now with a second screen.'));
    distinctAnswers(2);
    const before = fake.calls;
    const held = await spx(p, ['build'], 3);
    expect(callsAbout(before)).toEqual(['beta', 'beta']);
    expect(printed(held)).toContain('spx approve plan:beta');
    expect(p.takeRuns()).toEqual([]);

    const status = await spx(p, ['status'], 0);
    expect(status.stdout).toMatch(/beta\s+plan awaiting review/);
    expect(status.stdout).toMatch(/alpha\s+up to date/);

    // One instance awaits review: the bare name approves it.
    const approved = await spx(p, ['approve', 'plan'], 0);
    expect(approved.stdout).toContain('approved plan:beta');
    await spx(p, ['build'], 0);
    expect(p.takeRuns()).toEqual(['beta', 'changelog']);
    expect(fake.calls).toBe(before + 2);
  });

  it('builds a new feature alone by target, and a removed feature costs nothing and is gone from status and spx.lock', async () => {
    const p = await threeFeatures();
    p.write('features/delta/USER-SPEC.md', spec('delta'));
    const before = fake.calls;
    await spx(p, ['build', 'impl:delta', '--approve'], 0);
    expect(callsAbout(before)).toEqual(['delta', 'delta']);
    expect(p.takeRuns()).toEqual(['delta']);

    await rm(p.path('features/alpha'), { recursive: true });
    await spx(p, ['build'], 0);
    expect(fake.calls).toBe(before + 2);
    expect(p.takeRuns()).toEqual(['changelog']);
    expect(Object.keys(p.lock().nodes).filter((node) => node.endsWith(':alpha'))).toEqual([]);
    // Its outputs are the user's files: left alone.
    expect(p.exists('out/alpha.txt')).toBe(true);
    const status = await spx(p, ['status', '--json'], 0);
    const names = (JSON.parse(status.stdout) as { nodes: { name: string }[] }).nodes.map((node) => node.name);
    expect(names).not.toContain('spec:alpha');
    expect(names).toContain('spec:delta');
  });

  it('spx clean --gone removes the files of a removed feature, on request only, and never a forged path', async () => {
    const p = await threeFeatures();
    await rm(p.path('features/alpha/USER-SPEC.md'));
    await spx(p, ['build'], 0);
    expect(p.exists('features/alpha/AI-PLAN.md')).toBe(true);
    const listed = await spx(p, ['clean', '--gone', '--dry-run'], 0);
    expect(listed.stdout.trim().split('\n').sort()).toEqual([
      'would remove features/alpha/AI-PLAN.md (plan:alpha)',
      'would remove features/alpha/AI-SPEC.md (spec:alpha)',
      'would remove out/alpha.txt (impl:alpha)',
    ]);
    // A forged record of a gone node that points outside the project.
    p.write('.spx/gone-outputs.json', JSON.stringify({ 'spec:alpha': ['features/alpha/AI-SPEC.md'], 'x:y': ['../escape', 'spx.lock', '.git/config'] }));
    const cleaned = await spx(p, ['clean', '--gone'], 0);
    expect(cleaned.stderr).toContain('left "../escape" (x:y) alone');
    expect(cleaned.stderr).toContain('left "spx.lock" (x:y) alone');
    expect(p.exists('features/alpha/AI-SPEC.md')).toBe(false);
    expect(p.exists('spx.lock')).toBe(true);
    expect(p.exists('features/beta/AI-PLAN.md')).toBe(true);
    expect((await spx(p, ['clean', '--gone', '--dry-run'], 0)).stdout).toBe('');
  });

  it('takes instance ids and bare names in build --force, approve, clean and graph', async () => {
    const p = await threeFeatures();
    let before = fake.calls;
    await spx(p, ['build', '--force', 'spec:alpha'], 0);
    expect(callsAbout(before)).toEqual(['alpha']);

    before = fake.calls;
    p.write('features/alpha/USER-SPEC.md', spec('alpha', 'Now in blue.'));
    p.write('features/gamma/USER-SPEC.md', spec('gamma', 'Now in green.'));
    distinctAnswers(4);
    await spx(p, ['build'], 3);
    expect(callsAbout(before).sort()).toEqual(['alpha', 'alpha', 'gamma', 'gamma']);
    // Several instances await review, and no terminal to ask on: ids or --all.
    const ambiguous = await spx(p, ['approve', 'plan'], 2);
    expect(ambiguous.stderr).toContain('plan:alpha, plan:gamma');
    expect(ambiguous.stderr).toContain('--all');
    await spx(p, ['approve', 'plan:gamma'], 0);
    const listed = await spx(p, ['approve'], 0);
    expect(listed.stdout).toContain('awaiting review: plan:alpha');
    await spx(p, ['approve', 'plan', '--all'], 0);
    await spx(p, ['build'], 0);
    expect(p.takeRuns().sort()).toEqual(['alpha', 'changelog', 'gamma']);

    const unknown = await spx(p, ['build', 'plan:omega'], 2);
    expect(unknown.stderr).toContain('"plan:omega" is not an instance of "plan"; its instances are: plan:alpha, plan:beta, plan:gamma');

    const cleaned = await spx(p, ['clean', 'impl', '--dry-run'], 0);
    expect(cleaned.stdout.trim().split('\n')).toEqual([
      'would remove out/alpha.txt (impl:alpha)',
      'would remove out/beta.txt (impl:beta)',
      'would remove out/gamma.txt (impl:gamma)',
    ]);
    const graph = await spx(p, ['graph'], 0);
    expect(graph.stdout).toMatch(/subgraph \w+\["beta"\]\n\s+\w+\["spec:beta \(spec\)"\]/);
  });

  it('has no instance while no file matches, and refuses a value that could reach a shell command', async () => {
    const p = project([]);
    const empty = await spx(p, ['build'], 0);
    expect(empty.stdout).toContain('2 ran');
    expect(fake.calls).toBe(0);
    p.write('features/x; touch pwned/USER-SPEC.md', spec('x'));
    const refused = await spx(p, ['build'], 2);
    expect(refused.stderr).toContain('with the value "x; touch pwned"');
    expect(p.exists('pwned')).toBe(false);
  });
});

describe('spx approve on a terminal', () => {
  it('asks about each instance awaiting review, one by one, and approves the ones answered y', async () => {
    const p = await threeFeatures();
    p.write('features/alpha/USER-SPEC.md', spec('alpha', 'Now in blue.'));
    p.write('features/gamma/USER-SPEC.md', spec('gamma', 'Now in green.'));
    distinctAnswers(4);
    await spx(p, ['build'], 3);
    // A real pseudo-terminal (util-linux script): spx sees a person there.
    const environment: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm-256color', NO_COLOR: '1' };
    delete environment.CI;
    const terminal = spawn('script', ['-qfec', `'${process.execPath}' '${SPX_BIN}' approve plan`, '/dev/null'], { cwd: p.dir, env: environment, stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    terminal.stdout.setEncoding('utf8').on('data', (text: string) => (output += text));
    const exited = new Promise<number | null>((resolve) => terminal.on('close', resolve));
    await waitFor(() => output.includes('Approve plan:alpha (features/alpha/AI-PLAN.md)? [y/N]'), 'the first question');
    terminal.stdin.write('y\r');
    await waitFor(() => output.includes('Approve plan:gamma (features/gamma/AI-PLAN.md)? [y/N]'), 'the second question');
    terminal.stdin.write('n\r');
    expect(await exited, output).toBe(0);
    expect(output).toContain('approved plan:alpha');
    expect(output).not.toContain('approved plan:gamma');
    expect((await spx(p, ['approve'], 0)).stdout).toContain('awaiting review: plan:gamma');
  });
});

describe('spx new', () => {
  it('writes the feature\'s USER-SPEC.md where the foreach pattern puts it, which makes its instances', async () => {
    const p = project(['alpha']);
    const made = await spx(p, ['new', 'beta'], 0);
    expect(made.stdout).toContain('wrote features/beta/USER-SPEC.md');
    expect(p.read('features/beta/USER-SPEC.md')).toMatch(/^# beta: /);
    const status = await spx(p, ['status', '--json'], 0);
    expect((JSON.parse(status.stdout) as { nodes: { name: string }[] }).nodes.map((node) => node.name)).toContain('plan:beta');
    expect((await spx(p, ['new', 'beta'], 2)).stderr).toContain('features/beta/USER-SPEC.md already exists');
    expect((await spx(p, ['new', '.hidden'], 2)).stderr).toContain('".hidden" cannot name a feature');
    expect((await spx(p, ['new', '../up'], 2)).stderr).toContain('takes 1 value');
    expect((await spx(p, ['new'], 2)).stderr).toContain('spx new takes one NAME');
  });

  it('says how to declare features in a pipeline without foreach', async () => {
    const p = createProject({}, 'version: 1\nnodes:\n  a: { kind: run, command: "true" }\n');
    expect((await spx(p, ['new', 'x'], 2)).stderr).toContain('the pipeline has no foreach node');
  });
});

describe('foreach errors name the place', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  });

  async function errorsOf(...lines: string[]): Promise<{ file: string; errors: { line: number; column: number; message: string }[] }> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'spx-foreach-'));
    dirs.push(dir);
    const file = path.join(dir, 'spx.yaml');
    await writeFile(file, ['version: 1', 'nodes:', ...lines].join('\n') + '\n');
    try {
      await loadPipeline(file);
    } catch (error) {
      expect(error).toBeInstanceOf(UserErrors);
      return { file, errors: (error as UserErrors).errors.map((e) => ({ line: e.location!.line, column: e.location!.column, message: e.message })) };
    }
    throw new Error('expected the pipeline to be rejected');
  }

  const node = (...lines: string[]): string[] => ['  a:', '    kind: run', '    foreach: f/{name}.md', ...lines];

  it('an unknown placeholder', async () => {
    const { errors } = await errorsOf(...node('    command: "cat f/{nmae}.md > o/{name}"', '    outputs: ["o/{name}"]'));
    expect(errors).toEqual([{ line: 6, column: 14, message: expect.stringContaining('unknown placeholder {nmae} in nodes.a.command: foreach f/{name}.md defines {name}') }]);
  });

  it('a placeholder in a node without foreach', async () => {
    const { errors } = await errorsOf('  a:', '    kind: run', '    command: "true"', '    outputs: ["o/{name}"]');
    expect(errors).toEqual([{ line: 6, column: 15, message: expect.stringContaining('{name} in nodes.a.outputs[0], but node "a" has no foreach') }]);
  });

  it('an output every instance would write', async () => {
    const { errors } = await errorsOf(...node('    command: "true"', '    outputs: [o/all.txt]'));
    expect(errors).toEqual([{ line: 7, column: 15, message: expect.stringContaining('output o/all.txt of foreach node "a" has no placeholder') }]);
  });

  it('needs between foreach nodes over different placeholders', async () => {
    const { errors } = await errorsOf(
      ...node('    command: "true"', '    outputs: ["o/{name}"]'),
      '  b:',
      '    kind: run',
      '    foreach: g/{other}.md',
      '    needs: [a]',
      '    command: "true"',
      '    outputs: ["p/{other}"]',
    );
    expect(errors).toEqual([{ line: 11, column: 13, message: expect.stringContaining('which instance is meant is ambiguous') }]);
  });

  it('a pattern without a placeholder, or with a glob', async () => {
    const none = await errorsOf('  a:', '    kind: run', '    foreach: f/spec.md', '    command: "true"');
    expect(none.errors).toEqual([{ line: 5, column: 14, message: expect.stringContaining('has no {placeholder}') }]);
    const glob = await errorsOf('  a:', '    kind: run', '    foreach: "f/*/{name}.md"', '    command: "true"', '    outputs: ["o/{name}"]');
    expect(glob.errors[0]!.message).toContain('not a glob');
  });

  it('an unquoted placeholder in a flow sequence says to quote it', async () => {
    const { errors } = await errorsOf(...node('    command: "true"', '    outputs: [o/{name}]'));
    expect(errors[0]!.line).toBe(7);
    expect(errors[0]!.message).toContain('a {placeholder} inside [ ] must be quoted');
  });
});
