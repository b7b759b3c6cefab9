import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { loadPipeline } from '../src/config/load.js';
import { pipelineNames } from '../src/config/pipelines.js';
import type { NodeConfig, PipelineConfig } from '../src/config/types.js';
import { REPO_ROOT, SPX_BIN } from './helpers/project.js';

const run = promisify(execFile);

/**
 * Every spx.yaml under examples/, at any depth; not in node_modules, nor in
 * dot directories such as .spx/ (an execute node's scratch worktree there is
 * a checkout of the whole repository).
 */
function exampleFiles(dir = path.join(REPO_ROOT, 'examples')): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' || entry.name.startsWith('.') ? [] : exampleFiles(full);
    return entry.name === 'spx.yaml' ? [full] : [];
  });
}

const PIPELINES = pipelineNames().map((name) => path.join(REPO_ROOT, 'pipelines', `${name}.yaml`));
const FILES = [...PIPELINES, ...exampleFiles(), path.join(REPO_ROOT, 'spx.yaml')];

async function shipped(name: string): Promise<PipelineConfig> {
  return (await loadPipeline(path.join(REPO_ROOT, 'pipelines', `${name}.yaml`), { cache: false })).config;
}

function kinds(config: PipelineConfig): Record<string, NodeConfig['kind']> {
  return Object.fromEntries(Object.entries(config.nodes).map(([name, node]) => [name, node.kind]));
}

describe('every pipeline file in the repository is valid', () => {
  it('ships the five ready pipelines', () => {
    expect(pipelineNames()).toEqual(['features', 'gemini-cli', 'local', 'plan-only', 'spec-plan-execute']);
    expect(exampleFiles().length).toBeGreaterThan(0);
  });

  it.each(FILES.map((file) => [path.relative(REPO_ROOT, file), file]))('spx validate -f %s exits 0, and writes nothing', async (_name, file) => {
    const before = readdirSync(path.dirname(file));
    const { stdout } = await run(process.execPath, [SPX_BIN, 'validate', '-f', file], { env: { ...process.env, CI: 'true' } });
    expect(stdout).toMatch(/: valid \(\d+ nodes?\)\n$/);
    expect(readdirSync(path.dirname(file))).toEqual(before);
  });

  it('each ready pipeline points editors at the schema it ships with', () => {
    for (const file of PIPELINES) {
      const first = readFileSync(file, 'utf8').split('\n')[0]!;
      expect(first, file).toBe('# yaml-language-server: $schema=../schema/spx.schema.json');
      expect(existsSync(path.join(path.dirname(file), '../schema/spx.schema.json'))).toBe(true);
    }
  });

  it('the schema lets extends name exactly the ready pipelines, and spx init --help lists them', async () => {
    const schema = JSON.parse(readFileSync(path.join(REPO_ROOT, 'schema/spx.schema.json'), 'utf8'));
    expect(schema.properties.extends.enum).toEqual(pipelineNames());
    const { stdout } = await run(process.execPath, [SPX_BIN, 'init', '--help']);
    for (const name of pipelineNames()) expect(stdout).toMatch(new RegExp(`^  ${name} `, 'm'));
  });
});

describe('what each ready pipeline does', () => {
  it('spec-plan-execute: context (repomix) → spec and plan (Gemini SDK) → reviewed plan → execute (Claude Code, verified by npm test)', async () => {
    const config = await shipped('spec-plan-execute');
    expect(kinds(config)).toEqual({ context: 'context', spec: 'spec', 'plan-context': 'context', plan: 'plan', 'plan-files': 'context', execute: 'execute' });
    const { spec, plan, execute } = config.nodes as Record<string, Extract<NodeConfig, { provider: unknown }>>;
    expect(spec).toMatchObject({ inputs: ['USER-SPEC.md'], uses: ['context'], output: 'AI-SPEC.md', provider: { type: 'gemini', apiKeyEnv: 'GEMINI_API_KEY' } });
    expect(plan).toMatchObject({ needs: ['spec'], uses: ['plan-context'], output: 'AI-PLAN.md', review: true, provider: { type: 'gemini' } });
    expect(execute).toMatchObject({ needs: ['plan'], uses: ['plan-files'], verify: ['npm test'], provider: { type: 'claude-code', command: ['claude'] } });
    expect(execute).not.toHaveProperty('effort');
    expect(execute).toMatchObject({ parallelAgents: false });
  });

  it.each(['spec-plan-execute', 'gemini-cli'])('%s shapes the context per step: broad for spec, targeted for plan, the plan\'s files within 150K tokens for execute', async (name) => {
    const nodes = (await shipped(name)).nodes;
    // Broad: every file but the pipeline's own, within Gemini's window.
    expect(nodes['context']).toMatchObject({ files: { include: ['**'], exclude: expect.arrayContaining(['AI-PLAN.md']) }, maxTokens: 800000 });
    // Targeted: tests, manifests, the files the spec names and those holding its identifiers.
    expect(nodes['plan-context']).toMatchObject({
      files: { include: expect.arrayContaining(['test/**', '**/package.json', '**/go.mod', '**/Makefile']), fromOutput: 'spec', fromCommand: expect.stringContaining('git grep --no-index') },
      uses: ['spec'],
    });
    // The plan's own files, sized for the agent.
    expect(nodes['plan-files']).toMatchObject({ files: { include: [], fromOutput: 'plan' }, uses: ['plan'], maxTokens: 150000 });
  });

  it('features: spec, plan and execute per features/*/USER-SPEC.md, around one shared context', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'spx-features-'));
    try {
      for (const feature of ['login', 'export']) {
        mkdirSync(path.join(root, 'features', feature), { recursive: true });
        writeFileSync(path.join(root, 'features', feature, 'USER-SPEC.md'), '# x\n');
      }
      const file = path.join(REPO_ROOT, 'pipelines', 'features.yaml');
      const { config } = await loadPipeline(file, { root, stateDir: path.join(root, '.spx'), cache: false });
      expect(Object.keys(config.nodes)).toEqual([
        'context',
        'spec:export',
        'spec:login',
        'plan-context:export',
        'plan-context:login',
        'plan:export',
        'plan:login',
        'plan-files:export',
        'plan-files:login',
        'execute:export',
        'execute:login',
      ]);
      expect(config.nodes['plan:login']).toMatchObject({ needs: ['spec:login'], uses: ['plan-context:login'], output: 'features/login/AI-PLAN.md', review: true });
      expect(config.nodes['plan-context:login']).toMatchObject({ files: { fromOutput: 'spec:login', fromCommand: expect.stringContaining('features/login/AI-SPEC.md') }, output: '.spx/context/login/plan-context.xml' });
      expect(config.nodes['plan-files:export']).toMatchObject({ files: { fromOutput: 'plan:export' }, maxTokens: 150000, output: '.spx/context/export/plan-files.xml' });
      expect(config.nodes['execute:export']).toMatchObject({ needs: ['plan:export'], uses: ['plan-files:export'], verify: ['npm test'], output: 'features/export/execute.patch' });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('gemini-cli: every model and agent call is gemini -p; the agent runs with --yolo', async () => {
    const config = await shipped('gemini-cli');
    expect(kinds(config)).toEqual({ context: 'context', spec: 'spec', 'plan-context': 'context', plan: 'plan', 'plan-files': 'context', execute: 'execute' });
    for (const node of Object.values(config.nodes)) {
      if (!('provider' in node)) continue;
      expect(node.provider).toMatchObject({ type: 'command', promptVia: 'stdin' });
      const command = (node.provider as { command: string[] }).command;
      expect(command.slice(0, 2)).toEqual(['gemini', '-p']);
      expect(command.includes('--yolo')).toBe(node.kind === 'execute');
    }
  });

  it('local: spec and plan from ollama run, with a small token budget; no execute', async () => {
    const config = await shipped('local');
    expect(kinds(config)).toEqual({ context: 'context', spec: 'spec', 'plan-context': 'context', plan: 'plan' });
    expect(config.nodes['plan']).toMatchObject({ uses: ['plan-context'] });
    expect(config.nodes['plan-context']).toMatchObject({ files: { fromOutput: 'spec' }, maxTokens: 24000, repomix: { compress: true } });
    expect(config.nodes['spec']).toMatchObject({ provider: { type: 'command', command: ['ollama', 'run', expect.any(String)] } });
    expect(config.nodes['context']).toMatchObject({ maxTokens: expect.any(Number), repomix: { compress: true } });
  });

  it('plan-only: context, spec and a reviewed plan; no execute', async () => {
    const config = await shipped('plan-only');
    expect(kinds(config)).toEqual({ context: 'context', spec: 'spec', plan: 'plan' });
    expect(config.nodes['plan']).toMatchObject({ review: true, provider: { type: 'gemini' } });
  });

  it.each(['spec-plan-execute', 'gemini-cli', 'features'])(
    '%s rehearses offline to the end in a git repository: spx build --provider rehearse --approve exits 0, every bundle built',
    async (name) => {
      const root = mkdtempSync(path.join(os.tmpdir(), 'spx-rehearse-'));
      try {
        const spec = name === 'features' ? 'features/login/USER-SPEC.md' : 'USER-SPEC.md';
        mkdirSync(path.join(root, path.dirname(spec)), { recursive: true });
        writeFileSync(path.join(root, spec), '# Goal\n\nAdd `--chars` to src/cli.js.\n');
        mkdirSync(path.join(root, 'src'));
        writeFileSync(path.join(root, 'src/cli.js'), 'console.log(process.argv.includes("--chars"));\n');
        writeFileSync(path.join(root, 'package.json'), '{ "private": true, "scripts": { "test": "node -e 0" } }\n');
        writeFileSync(path.join(root, '.gitignore'), '.spx/\n');
        writeFileSync(path.join(root, 'spx.yaml'), readFileSync(path.join(REPO_ROOT, 'pipelines', `${name}.yaml`), 'utf8'));
        const git = (...args: string[]) => run('git', ['-c', 'user.name=t', '-c', 'user.email=t@e', ...args], { cwd: root });
        await git('init', '-q');
        await git('add', '-A');
        await git('commit', '-q', '-m', 'initial');
        const env = { ...process.env, CI: 'true', NO_COLOR: '1' };
        const { stdout } = await run(process.execPath, [SPX_BIN, 'build', '--provider', 'rehearse', '--approve'], { cwd: root, env });
        expect(stdout).toMatch(/✓ execute/);
        const suffix = name === 'features' ? '/login' : '';
        for (const bundle of ['context', 'plan-context', 'plan-files']) {
          const file = bundle === 'context' ? '.spx/context/context.xml' : `.spx/context${suffix}/${bundle}.xml`;
          expect(existsSync(path.join(root, file)), file).toBe(true);
        }
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    },
    180_000,
  );

  it('every ready pipeline declares the offline "rehearse" provider', async () => {
    for (const name of pipelineNames()) expect((await shipped(name)).providers['rehearse'], name).toEqual({ type: 'echo' });
  });
});
