import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './helpers/project.js';

/**
 * The package as a user gets it: packed from a clean checkout of HEAD (what
 * CI and a release see, not this working tree with its dist/), installed
 * with npm into a new project, run through its command. No network: the
 * clone borrows this checkout's node_modules for `prepack`, and the install
 * takes every dependency from npm's cache by the integrity in spx's lockfile.
 */

let work: string;
let tarball: string;
let shipped: string[];
let app: string;

function run(command: string, args: string[], options: SpawnSyncOptions & { cwd: string }): string {
  const result = spawnSync(command, args, { encoding: 'utf8', ...options, env: { ...process.env, npm_config_update_notifier: 'false', ...options.env } });
  expect(result.status, `${command} ${args.join(' ')}\n${String(result.stdout)}${String(result.stderr)}`).toBe(0);
  return String(result.stdout);
}

/** The lockfile a project depending on the tarball would get: spx's own, minus its dev dependencies. */
function appLockfile(tarballName: string): object {
  const lock = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, Record<string, unknown>> };
  const spx = lock.packages['']!;
  const packages: Record<string, unknown> = {
    '': { name: 'app', dependencies: { spx: `file:${tarballName}` } },
    'node_modules/spx': { version: spx['version'], resolved: `file:${tarballName}`, dependencies: spx['dependencies'], bin: spx['bin'], engines: spx['engines'] },
  };
  for (const [where, entry] of Object.entries(lock.packages)) {
    if (where === '' || entry['dev'] === true) continue;
    // spx's lockfile leaves out where each tarball came from; npm finds it in
    // its cache by this URL and the integrity, without asking the registry.
    const name = (entry['name'] as string | undefined) ?? where.slice(where.lastIndexOf('node_modules/') + 'node_modules/'.length);
    packages[where] = { resolved: `https://registry.npmjs.org/${name}/-/${name.split('/').pop()}-${String(entry['version'])}.tgz`, ...entry };
  }
  return { name: 'app', lockfileVersion: 3, requires: true, packages };
}

beforeAll(() => {
  work = mkdtempSync(path.join(os.tmpdir(), 'spx-pack-'));
  const clone = path.join(work, 'clone');
  run('git', ['clone', '-q', REPO_ROOT, clone], { cwd: work });
  run('git', ['checkout', '-q', run('git', ['rev-parse', 'HEAD'], { cwd: REPO_ROOT }).trim()], { cwd: clone });
  symlinkSync(realpathSync(path.join(REPO_ROOT, 'node_modules')), path.join(clone, 'node_modules'));

  const packed = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', work], { cwd: clone })) as { filename: string; files: { path: string }[] }[];
  tarball = packed[0]!.filename;
  shipped = packed[0]!.files.map((file) => file.path);

  app = path.join(work, 'app');
  mkdirSync(app);
  writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, dependencies: { spx: `file:../${tarball}` } }));
  writeFileSync(path.join(app, 'package-lock.json'), JSON.stringify(appLockfile(`../${tarball}`)));
  run('npm', ['ci', '--offline', '--no-audit', '--no-fund'], { cwd: app });
}, 300_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the npm package', () => {
  it('ships the compiled code, its LICENSE, and no source map without its source', () => {
    expect(shipped).toContain('dist/cli/main.js');
    expect(shipped).toContain('bin/spx.js');
    expect(shipped).toContain('LICENSE');
    expect(shipped).toContain('schema/spx.schema.json');
    const maps = shipped.filter((file) => file.endsWith('.map'));
    for (const map of maps) {
      const { sources } = JSON.parse(readFileSync(path.join(app, 'node_modules', 'spx', map), 'utf8')) as { sources: string[] };
      for (const source of sources) expect(shipped, `${map} points at ${source}`).toContain(path.posix.join(path.posix.dirname(map), source));
    }
  });

  it("links in its README and docs only to files it ships", () => {
    const pages = shipped.filter((file) => file === 'README.md' || (file.startsWith('docs/') && file.endsWith('.md')));
    expect(pages).toContain('README.md');
    const broken: string[] = [];
    for (const page of pages) {
      const text = readFileSync(path.join(app, 'node_modules', 'spx', page), 'utf8');
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:|^#/.test(target!)) continue;
        const file = path.posix.normalize(path.posix.join(path.posix.dirname(page), target!.replace(/#.*$/, ''))).replace(/\/$/, '');
        if (!shipped.some((s) => s === file || s.startsWith(`${file}/`))) broken.push(`${page}: ${target}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('installed into a new project, runs spx init and a rehearsal up to the review gate', () => {
    run('git', ['init', '-q'], { cwd: app });
    writeFileSync(path.join(app, 'index.js'), 'export const answer = 42;\n');
    const npx = (args: string[]) => spawnSync('npx', ['--offline', 'spx', ...args], { cwd: app, encoding: 'utf8', env: { ...process.env, GEMINI_API_KEY: '' } });

    const init = npx(['init']);
    expect(init.status, init.stdout + init.stderr).toBe(0);
    expect(readFileSync(path.join(app, 'spx.yaml'), 'utf8')).toContain('$schema=./node_modules/spx/schema/spx.schema.json');

    const build = npx(['build', '--provider', 'rehearse']);
    expect(build.status, build.stdout + build.stderr).toBe(3);
    expect(readFileSync(path.join(app, 'AI-PLAN.md'), 'utf8')).toContain('offline rehearsal');
    // The context is the project's own files, not its dependencies.
    expect(build.stdout + build.stderr).not.toContain('node_modules/');
  }, 120_000);
});
