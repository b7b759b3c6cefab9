import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './helpers/project.js';

/**
 * Every shell command in the README, docs/ and the examples' walk-throughs
 * runs here, as written, so that the docs cannot rot. The rules they follow:
 *
 * - Fenced ```sh and ```bash blocks are run, one command at a time (a line,
 *   or lines joined by a trailing backslash), in a temp copy of the
 *   repository committed to a fresh git repository, with `spx` on the PATH
 *   running this checkout's build (bin/spx.js → dist/).
 * - Each `## ` section of each file starts in the copy's root; `cd` carries
 *   over to the next commands of the same section.
 * - A command exits 0 unless it ends with a comment `# exits N: why`.
 * - A block with a line `# not run in tests: why` is skipped, whole; only
 *   such blocks are.
 * - A ```yaml block holding "version: 1" is a pipeline file: it must pass
 *   `spx validate`.
 * - A ```mermaid block right after a block whose last command is
 *   `spx graph` (or `node bin/spx.js graph`) must be exactly what that
 *   command printed.
 * - A relative link leads to a file of the repository, and its #anchor to a
 *   heading of that file.
 */

interface Command {
  /** 1-based line in its file, for messages. */
  line: number;
  text: string;
  exit: number;
}

interface Block {
  /** The markdown file, relative to the repository. */
  file: string;
  /** `file § heading`: where `cd` is reset. */
  section: string;
  line: number;
  lang: string;
  body: string;
  commands: Command[];
  /** Why the block is not run, when it says so. */
  notRun?: string;
}

const SHELLS = new Set(['sh', 'bash']);
const markdownIn = (dir: string): string[] => readdirSync(path.join(REPO_ROOT, dir)).filter((name) => name.endsWith('.md')).map((name) => `${dir}/${name}`);
/** The docs a user reads: the README, docs/ and the walk-throughs beside their examples. */
const DOCS = ['README.md', ...markdownIn('docs'), ...['hello-pipeline', 'word-count'].map((example) => `examples/${example}/WALKTHROUGH.md`)];

function parseBlocks(file: string): Block[] {
  const lines = readFileSync(path.join(REPO_ROOT, file), 'utf8').split('\n');
  const blocks: Block[] = [];
  let section = file;
  for (let i = 0; i < lines.length; i++) {
    const heading = /^## (.*)$/.exec(lines[i]!);
    if (heading) section = `${file} § ${heading[1]!}`;
    const fence = /^(`{3,})(\S*)\s*$/.exec(lines[i]!);
    if (!fence) continue;
    const [, ticks, lang] = fence;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i] !== ticks; i++) body.push(lines[i]!);
    const block: Block = { file, section, line: start + 1, lang: lang!, body: body.join('\n') + '\n', commands: [] };
    if (SHELLS.has(block.lang)) parseCommands(block, body, start + 2);
    blocks.push(block);
  }
  return blocks;
}

function parseCommands(block: Block, body: string[], firstLine: number): void {
  for (let j = 0; j < body.length; j++) {
    const notRun = /^#\s*not run in tests:\s*(.*)$/.exec(body[j]!);
    if (notRun) block.notRun = notRun[1]!.trim();
    if (body[j]!.trim() === '' || body[j]!.trim().startsWith('#')) continue;
    const line = firstLine + j;
    let text = body[j]!;
    while (text.endsWith('\\') && j + 1 < body.length) text = `${text.slice(0, -1)}\n${body[++j]}`;
    const exits = /#\s*exits (\d+)\b/.exec(text);
    block.commands.push({ line, text, exit: exits ? Number(exits[1]) : 0 });
  }
}

const BLOCKS = DOCS.flatMap(parseBlocks);
const RUN = BLOCKS.filter((block) => SHELLS.has(block.lang) && block.notRun === undefined);
const SECTIONS = [...new Set(RUN.map((block) => block.section))];

let work: string;
let copy: string;
let env: NodeJS.ProcessEnv;

/**
 * The copy holds the files git would give a clone (tracked, and new files
 * not ignored), so that the docs' `git checkout` works on it; dist/ and
 * node_modules/ are links to this checkout's.
 */
beforeAll(() => {
  work = mkdtempSync(path.join(os.tmpdir(), 'spx-readme-'));
  copy = path.join(work, 'spx');
  const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], { cwd: REPO_ROOT, encoding: 'utf8' })
    .split('\0')
    .filter((file) => file !== '' && !file.startsWith('node_modules/'));
  for (const file of files) {
    mkdirSync(path.dirname(path.join(copy, file)), { recursive: true });
    try {
      copyFileSync(path.join(REPO_ROOT, file), path.join(copy, file));
    } catch (error) {
      // Listed by git but deleted in the working tree: a clone would not have it either.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  symlinkSync(path.join(REPO_ROOT, 'dist'), path.join(copy, 'dist'));
  symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(copy, 'node_modules'));
  const git = (...args: string[]): void => {
    const result = spawnSync('git', ['-c', 'user.name=spx', '-c', 'user.email=spx@example.com', '-c', 'commit.gpgsign=false', ...args], { cwd: copy, encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`git ${args.join(' ')}: ${result.stderr}`);
  };
  git('init', '-q');
  git('add', '-A');
  git('commit', '-q', '--no-verify', '-m', 'docs test copy');

  const bin = path.join(work, 'bin');
  mkdirSync(bin);
  writeFileSync(path.join(bin, 'spx'), `#!/bin/sh\nexec "${process.execPath}" "${path.join(copy, 'bin', 'spx.js')}" "$@"\n`);
  chmodSync(path.join(bin, 'spx'), 0o755);
  env = { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}`, CI: 'true', NO_COLOR: '1' };
  // Nothing the docs run may reach a real model, a shared cache or a remote one.
  for (const name of Object.keys(env)) {
    if (name === 'GEMINI_API_KEY' || name === 'ANTHROPIC_API_KEY' || name === 'SPX_CACHE_DIR' || name.startsWith('SPX_REMOTE_CACHE_')) delete env[name];
  }
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
  cwd: string;
}

/** Runs one command with bash in `cwd`; returns its result and the directory it ended in. */
function runCommand(text: string, cwd: string): Promise<Ran> {
  const cwdFile = path.join(work, 'cwd');
  const script = `${text}\n__status=$?\npwd > "${cwdFile}"\nexit $__status\n`;
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', script], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      let after = cwd;
      try {
        after = readFileSync(cwdFile, 'utf8').trim();
      } catch {
        // The command ended the shell itself; stay where it started.
      }
      resolve({ code, stdout, stderr, cwd: after });
    });
  });
}

/** The #anchors GitHub gives a markdown file's headings. */
function anchorsOf(file: string): Set<string> {
  if (!file.endsWith('.md')) return new Set();
  const headings = readFileSync(path.join(REPO_ROOT, file), 'utf8').replace(/^```[\s\S]*?^```/gm, '').match(/^#{1,6} .*$/gm) ?? [];
  return new Set(headings.map((heading) => heading.replace(/^#+ /, '').trim().toLowerCase().replace(/[^\w\- ]/g, '').replace(/ /g, '-')));
}

describe('README.md, docs/ and the walk-throughs', () => {
  it('marks only the blocks that cannot run here, each saying why, and runs a good many commands', () => {
    const skipped = BLOCKS.filter((block) => block.notRun !== undefined);
    for (const block of skipped) expect(block.notRun, `${block.file}:${block.line}`).not.toBe('');
    // Installs into another project, the two set-up commands (.ci/run runs
    // them), real keys, the seed's own commands, synopses run in a user's
    // project (the cost tests run them on real ones), a server, the bench,
    // a watch that runs until stopped (watch.test.ts drives one).
    expect(skipped.map((block) => block.section)).toEqual([
      'README.md § Install',
      'README.md § Set up',
      'README.md § Set up',
      'README.md § Quick start: from spx init to a reviewed plan',
      'docs/ci.md § Install spx in the project',
      "docs/context-shapes.md § The seed's commands, and the nodes that replace them",
      "docs/context-shapes.md § The seed's commands, and the nodes that replace them",
      "docs/context-shapes.md § The seed's commands, and the nodes that replace them",
      'docs/cost.md § Forecast: `spx build --dry-run` and `spx status`',
      'docs/cost.md § Budgets',
      'docs/cost.md § Ledger and `spx cost`',
      'docs/performance.md § Running the bench',
      'docs/remote-cache.md § Setting up a server',
      'docs/remote-cache.md § Moving entries by hand',
      'docs/watch.md',
      'examples/word-count/WALKTHROUGH.md',
    ]);
    expect(RUN.flatMap((block) => block.commands).length).toBeGreaterThanOrEqual(15);
    expect(SECTIONS).toContain('README.md § Quick start: from spx init to a reviewed plan');
    expect(SECTIONS).toContain('examples/word-count/WALKTHROUGH.md');
    expect(SECTIONS).toContain('examples/hello-pipeline/WALKTHROUGH.md');
  });

  it('shows the two set-up commands exactly as .ci/run runs them', () => {
    const ci = readFileSync(path.join(REPO_ROOT, '.ci/run'), 'utf8').split('\n');
    const setUp = BLOCKS.filter((block) => block.section === 'README.md § Set up' && SHELLS.has(block.lang)).flatMap((block) => block.commands.map((c) => c.text));
    expect(setUp).toEqual(['npm ci && npm run build && node bin/spx.js build -C examples/word-count --provider rehearse --approve', 'npm test']);
    expect(ci).toContain(setUp[0]);
    expect(ci.some((line) => line === setUp[1] || line.startsWith(`${setUp[1]} `))).toBe(true);
  });

  it('keeps the README short: a quick start near the top, the reference in docs/', () => {
    const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8').split('\n');
    expect(readme.length).toBeLessThan(300);
    expect(readme.findIndex((line) => line.startsWith('## Quick start'))).toBeLessThan(100);
  });

  it('links only to files that exist, and to headings that exist in them', () => {
    const broken: string[] = [];
    for (const file of [...DOCS, ...['hello-pipeline', 'word-count'].map((example) => `examples/${example}/README.md`)]) {
      const text = readFileSync(path.join(REPO_ROOT, file), 'utf8').replace(/^```[\s\S]*?^```/gm, '');
      for (const [, href] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/.test(href!)) continue;
        const [target, anchor] = href!.split('#');
        const linked = target === '' ? file : path.join(path.dirname(file), target!);
        if (!existsSync(path.join(REPO_ROOT, linked))) {
          broken.push(`${file}: ${href} (no such file)`);
        } else if (anchor !== undefined && !anchorsOf(linked).has(anchor)) {
          broken.push(`${file}: ${href} (no such heading)`);
        }
      }
    }
    expect(broken).toEqual([]);
  });

  it('shows only valid pipeline files: every ```yaml block with "version: 1" passes spx validate', () => {
    const pipelines = BLOCKS.filter((block) => block.lang === 'yaml' && /^version: 1$/m.test(block.body));
    expect(pipelines.length).toBeGreaterThanOrEqual(2);
    for (const block of pipelines) {
      const dir = mkdtempSync(path.join(work, 'yaml-'));
      writeFileSync(path.join(dir, 'spx.yaml'), block.body);
      const result = spawnSync(process.execPath, [path.join(REPO_ROOT, 'bin/spx.js'), 'validate'], { cwd: dir, env, encoding: 'utf8' });
      expect(result.status, `${block.file}:${block.line}\n${result.stderr}`).toBe(0);
    }
  });

  it('has reference docs in sync with the CLI, the events and the schema (node .ci/sync-docs.mjs --check)', () => {
    const result = spawnSync(process.execPath, [path.join(REPO_ROOT, '.ci/sync-docs.mjs'), '--check'], { encoding: 'utf8' });
    expect(result.status, result.stdout + result.stderr).toBe(0);
  });

  describe.sequential('runs every command as written', () => {
    for (const section of SECTIONS) {
      it(`§ ${section}`, { timeout: 60_000 }, async () => {
        let cwd = copy;
        for (const block of RUN.filter((b) => b.section === section)) {
          let last: Ran | undefined;
          for (const command of block.commands) {
            last = await runCommand(command.text, cwd);
            const where = `${block.file}:${command.line}: ${command.text}\n--- stdout\n${last.stdout}\n--- stderr\n${last.stderr}`;
            expect(last.code, where).toBe(command.exit);
            cwd = last.cwd;
          }
          const next = BLOCKS[BLOCKS.indexOf(block) + 1];
          if (last && next?.lang === 'mermaid' && /^(spx|node bin\/spx\.js) graph\b/.test(block.commands.at(-1)!.text)) {
            expect(last.stdout, `${block.file}:${next.line}: the mermaid block is what spx graph prints`).toBe(next.body);
          }
        }
      });
    }
  });
});
