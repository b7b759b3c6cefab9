import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from './project.js';

/** The server from npm (a devDependency), run as its CLI would be run in production. */
const SERVER_CLI = path.join(REPO_ROOT, 'node_modules/turborepo-remote-cache/dist/cli.js');

export interface RemoteCacheServer {
  url: string;
  /** Where the local storage backend keeps artifacts: `<storage>/<team>/<fingerprint>` (and `.tag`). */
  storage: string;
  token: string;
  pid: number;
  /** Kills it at once (SIGKILL), as a crash or a network cut would. */
  stop(): Promise<void>;
}

const servers = new Set<ChildProcess>();
/** Storage directories: they outlive a test (a server may serve several), so not `tempDir`'s. */
const storages: string[] = [];

/**
 * A real turborepo-remote-cache on a free loopback port, with the local
 * storage backend in a temp directory. `storesTags`: the server keeps the
 * x-artifact-tag of uploads only when it has a signature key of its own
 * (it never checks tags; spx does).
 */
export async function startRemoteCacheServer(options: { token: string; storesTags?: boolean }): Promise<RemoteCacheServer> {
  const storage = mkdtempSync(path.join(os.tmpdir(), 'spx-remote-'));
  storages.push(storage);
  const port = await freePort();
  const child = spawn(process.execPath, [SERVER_CLI], {
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      STORAGE_PROVIDER: 'local',
      STORAGE_PATH: storage,
      STORAGE_PATH_USE_TMP_FOLDER: 'false',
      TURBO_TOKEN: options.token,
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'error',
      ...(options.storesTags ? { TURBO_REMOTE_CACHE_SIGNATURE_KEY: 'the server only stores tags when this is set' } : {}),
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  servers.add(child);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => servers.delete(child));
  const url = `http://127.0.0.1:${port}`;
  await waitUntilAnswering(`${url}/v8/artifacts/status`, child, () => stderr);
  return {
    url,
    storage,
    token: options.token,
    pid: child.pid!,
    stop: async () => {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** For `afterAll`: kills every server still running and removes their storage. */
export async function stopRemoteCacheServers(): Promise<void> {
  const exits = [...servers].map((child) => new Promise((resolve) => child.once('exit', resolve)));
  for (const child of servers) child.kill('SIGKILL');
  await Promise.all(exits);
  for (const storage of storages.splice(0)) rmSync(storage, { recursive: true, force: true });
}

/** A TCP server on loopback that accepts connections and never says a word: a hung remote. */
export async function startSilentServer(): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A port nothing listens on right now: the kernel's choice for port 0. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function waitUntilAnswering(url: string, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`turborepo-remote-cache exited (${child.exitCode}):\n${stderr()}`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`turborepo-remote-cache did not answer at ${url} within 20 s:\n${stderr()}`);
}
