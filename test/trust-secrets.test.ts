import { createServer, type Server } from 'node:http';
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupCacheDirs } from './helpers/cache.js';
import { cleanupProjects, createProject, statusOf } from './helpers/project.js';

afterEach(async () => {
  await cleanupProjects();
  cleanupCacheDirs();
});

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
});

/** A remote cache that fails every request, echoing the token far into a long message, as a careless proxy might. */
async function startEchoingServer(): Promise<string> {
  const server = createServer((request, response) => {
    const token = (request.headers.authorization ?? '').replace(/^Bearer /, '');
    response.writeHead(500, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ message: `${'the backend could not serve this request; '.repeat(2)}token=${token} was refused upstream` }));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return `http://127.0.0.1:${port}`;
}

describe('secrets', () => {
  it('redacts a token that a remote echoes before the message is cut short', async () => {
    const url = await startEchoingServer();
    const token = 'tok-SECRET-d41d8cd98f00b204e9800998ecf8427e';
    const project = createProject({}, `version: 1\ncache:\n  remote:\n    url: ${url}\nnodes:\n  a:\n    kind: run\n    command: echo a > a.out\n    outputs: [a.out]\n`);
    const result = await project.spx(['build'], { env: { SPX_REMOTE_CACHE_TOKEN: token } });
    const seen = result.stdout + result.stderr + (project.exists('.spx/last-build.json') ? project.read('.spx/last-build.json') : '');
    // The message is long enough that a cut at 120 characters lands inside the token.
    expect(seen).toMatch(/remote cache/);
    expect(seen).not.toContain('tok-SE');
    const json = await project.spx(['build', '--force', '--json'], { env: { SPX_REMOTE_CACHE_TOKEN: token } });
    expect(json.stdout).toMatch(/remote cache/);
    expect(json.stdout + json.stderr).not.toContain('tok-SE');
  });

  it('fingerprints a secret-looking variable by presence only, so spx.lock holds no hash of its value', async () => {
    const project = createProject({}, 'version: 1\nnodes:\n  a:\n    kind: run\n    command: echo a >> runs.log; echo a > a.out\n    outputs: [a.out]\n    env: [DEPLOY_TOKEN, MODE]\n');
    expect((await project.spx(['build'], { env: { DEPLOY_TOKEN: 'hunter2', MODE: 'fast' } })).code).toBe(0);
    const lock = project.read('spx.lock');
    const valueHash = createHash('sha256').update('set:DEPLOY_TOKEN=hunter2').digest('hex');
    expect(lock).not.toContain(valueHash);
    // Another value of the secret: nothing to do. Another MODE: a rerun.
    expect((await project.spx(['build'], { env: { DEPLOY_TOKEN: 'correct horse', MODE: 'fast' } })).code).toBe(0);
    expect(project.read('runs.log')).toBe('a\n');
    expect((await project.spx(['build'], { env: { DEPLOY_TOKEN: 'correct horse', MODE: 'slow' } })).code).toBe(0);
    expect(project.read('runs.log')).toBe('a\na\n');
    // Unsetting it is a change that matters.
    const status = await statusOf(project, { env: { DEPLOY_TOKEN: undefined, MODE: 'slow' } });
    expect(status['a']?.reasons.join('\n')).toMatch(/environment variable DEPLOY_TOKEN changed/);
  });

  it('fingerprints a secret-looking variable by value when the node opts in with envByValue', async () => {
    const project = createProject({}, 'version: 1\nnodes:\n  a:\n    kind: run\n    command: echo a >> runs.log; echo a > a.out\n    outputs: [a.out]\n    envByValue: [MODEL_KEY_ID]\n');
    expect((await project.spx(['build'], { env: { MODEL_KEY_ID: 'k1' } })).code).toBe(0);
    expect((await project.spx(['build'], { env: { MODEL_KEY_ID: 'k2' } })).code).toBe(0);
    expect(project.read('runs.log')).toBe('a\na\n');
  });
});

describe('secrets in what a build prints', () => {
  const secret = 'sk-live-8c1f0f6e2b7a4d3c9e5f1a2b3c4d5e6f';
  const yaml = 'version: 1\nnodes:\n  leak:\n    kind: run\n    command: echo "calling with $SERVICE_API_KEY"; echo "auth failed for $SERVICE_API_KEY" >&2; exit 1\n    outputs: [leak.out]\n';

  it.each([['plain', []], ['--json', ['--json']]])('takes secret values out of a failing node output (%s)', async (_mode, extra) => {
    const project = createProject({}, yaml);
    const result = await project.spx(['build', ...extra], { env: { SERVICE_API_KEY: secret } });
    expect(result.code).toBe(1);
    const seen = result.stdout + result.stderr;
    expect(seen).toContain('auth failed for ***');
    expect(seen).not.toContain('sk-live-8c1f');
  });
});
