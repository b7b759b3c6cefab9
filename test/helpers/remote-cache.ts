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
 * A real turborepo-remote-cache on a loopback port of the kernel's choice,
 * with the local storage backend in a temp directory. `storesTags`: the
 * server keeps the x-artifact-tag of uploads only when it has a signature
 * key of its own (it never checks tags; spx does).
 */
export async function startRemoteCacheServer(options: { token: string; storesTags?: boolean }): Promise<RemoteCacheServer> {
  const storage = mkdtempSync(path.join(os.tmpdir(), 'spx-remote-'));
  storages.push(storage);
  const child = spawn(process.execPath, [SERVER_CLI], {
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      STORAGE_PROVIDER: 'local',
      STORAGE_PATH: storage,
      STORAGE_PATH_USE_TMP_FOLDER: 'false',
      TURBO_TOKEN: options.token,
      HOST: '127.0.0.1',
      // Port 0: the server binds a port nothing else holds and says which in
      // its "Server listening at" line, which needs the info log level. (A
      // free port found here and closed could be taken before it binds.)
      PORT: '0',
      LOG_LEVEL: 'info',
      ...(options.storesTags ? { TURBO_REMOTE_CACHE_SIGNATURE_KEY: 'the server only stores tags when this is set' } : {}),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  servers.add(child);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => servers.delete(child));
  const url = await listeningUrl(child, () => stderr);
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

/**
 * A TCP server on loopback that accepts connections and never says a word:
 * a hung remote. `requests`: how many connections sent one (each is left
 * hanging); a client may open a connection it sends nothing on.
 */
export async function startSilentServer(): Promise<{ url: string; requests(): number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let requests = 0;
  const server: Server = createServer((socket) => {
    socket.once('data', () => requests++);
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    requests: () => requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * The URL in the server's "Server listening at" log line (fastify's, once
 * it is bound). The log is read to its end: a full pipe would stall the
 * server.
 */
function listeningUrl(child: ChildProcess, stderr: () => string): Promise<string> {
  return new Promise((resolve, reject) => {
    let log: string | undefined = '';
    const onExit = (code: number | null): void => reject(new Error(`turborepo-remote-cache exited (${code}) before listening:\n${stderr()}`));
    child.once('exit', onExit);
    child.stdout!.setEncoding('utf8').on('data', (text: string) => {
      if (log === undefined) return;
      log += text;
      const listening = /"Server listening at (http:\/\/127\.0\.0\.1:\d+)"/.exec(log);
      if (!listening) return;
      log = undefined;
      child.off('exit', onExit);
      resolve(listening[1]!);
    });
  });
}
