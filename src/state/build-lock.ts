import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

interface Holder {
  pid: number;
  host: string;
  command: string;
}

const POLL_MS = 200;

/**
 * One build at a time per project. The lock is a file created with O_EXCL
 * that names its holder; a holder on this host whose process is gone (killed
 * with -9) left a stale lock, which the next build takes over.
 */
export class BuildLock {
  private constructor(private readonly path: string) {}

  /**
   * Takes the lock, waiting while another live build holds it when `wait` is
   * set (telling `onWait` once who it waits for), or returning the holder's
   * description when not.
   */
  static async acquire(stateDir: string, options: { wait: boolean; onWait(holder: string): void }): Promise<BuildLock | string> {
    mkdirSync(stateDir, { recursive: true });
    const path = join(stateDir, 'build.lock');
    let told = false;
    for (;;) {
      if (tryCreate(path)) return new BuildLock(path);
      const holder = readHolder(path);
      if (holder && !isAlive(holder)) {
        rmSync(path, { force: true });
        continue;
      }
      const who = holder ? `process ${holder.pid} on ${holder.host} (${holder.command})` : 'another process';
      if (!options.wait) return who;
      if (!told) options.onWait(who);
      told = true;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  release(): void {
    rmSync(this.path, { force: true });
  }
}

function tryCreate(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  const holder: Holder = { pid: process.pid, host: hostname(), command: process.argv.slice(2).join(' ') };
  writeSync(fd, JSON.stringify(holder));
  closeSync(fd);
  return true;
}

function readHolder(path: string): Holder | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Holder;
  } catch {
    // Being written this instant, or gone: look again on the next round.
    return undefined;
  }
}

function isAlive(holder: Holder): boolean {
  // A process on another host (a shared network drive) cannot be checked:
  // assume it is alive rather than break its build.
  if (holder.host !== hostname()) return true;
  try {
    process.kill(holder.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
