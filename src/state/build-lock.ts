import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { displayPath } from '../util/note.js';
import { isRecord } from '../util/shape.js';

interface Holder {
  pid: number;
  host: string;
  command: string;
  /** `spx build --watch`: it holds the lock until stopped, so the words for whoever waits differ. */
  watch?: boolean;
}

const POLL_MS = 200;

/**
 * One build at a time per project. The lock is a file that names its
 * holder, put in place whole (written aside, then hard-linked: the link
 * fails if the lock exists), so a live holder's lock is never seen empty.
 * Hence a lock that is empty, not a holder's JSON, or names a process of
 * this host that is gone (killed with -9) is left over, and the next build
 * takes it over instead of waiting for nobody.
 */
export class BuildLock {
  private constructor(private readonly path: string) {}

  /**
   * Takes the lock, waiting while another live build holds it when `wait` is
   * set (telling `onWait` once who it waits for), or returning who holds it
   * and how to clear it when not.
   */
  static async acquire(stateDir: string, options: { wait: boolean; onWait(holder: string): void; watch?: boolean }): Promise<BuildLock | string> {
    mkdirSync(stateDir, { recursive: true });
    const path = join(stateDir, 'build.lock');
    let told = false;
    for (;;) {
      if (tryCreate(path, options.watch ?? false)) return new BuildLock(path);
      const holder = readHolder(path);
      if (holder === 'gone') continue;
      if (holder === 'left-over' || !isAlive(holder)) {
        takeOver(path);
        continue;
      }
      const who = `process ${holder.pid} on ${holder.host} (spx ${holder.command})${holder.watch === true ? '; a watch is running there: stop it (q or Ctrl-C) to go on' : ''}`;
      if (!options.wait) return `${who}; if that process is gone, delete ${displayPath(path)}`;
      if (!told) options.onWait(who);
      told = true;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  release(): void {
    rmSync(this.path, { force: true });
  }
}

function tryCreate(path: string, watch: boolean): boolean {
  const holder: Holder = { pid: process.pid, host: hostname(), command: process.argv.slice(2).join(' '), ...(watch ? { watch } : {}) };
  const temp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}`;
  writeFileSync(temp, JSON.stringify(holder));
  try {
    linkSync(temp, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    rmSync(temp, { force: true });
  }
}

/** The holder, 'left-over' for a lock no live spx wrote, or 'gone' when it vanished while read. */
function readHolder(path: string): Holder | 'left-over' | 'gone' {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    // Anything but a readable file (a directory, say) is no holder's lock either.
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'gone' : 'left-over';
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return 'left-over';
  }
  if (!isRecord(parsed) || !Number.isSafeInteger(parsed.pid) || (parsed.pid as number) <= 0 || typeof parsed.host !== 'string' || typeof parsed.command !== 'string') {
    return 'left-over';
  }
  return parsed as unknown as Holder;
}

/**
 * Removes a left-over lock, and only that one: two builds may judge the
 * same lock stale at once, and the slower must not delete the lock the
 * faster has just taken. So the lock is first renamed away (atomic), then
 * looked at again; a live holder's, taken meanwhile, is put back.
 */
function takeOver(path: string): void {
  const aside = `${path}.stale.${process.pid}.${randomBytes(6).toString('hex')}`;
  try {
    renameSync(path, aside);
  } catch {
    return; // Already gone: the next round creates it.
  }
  const taken = readHolder(aside);
  if (typeof taken === 'object' && isAlive(taken)) {
    try {
      linkSync(aside, path);
    } catch {
      // Yet another build holds it now: the one moved aside lost its lock file, not its run.
    }
  }
  rmSync(aside, { force: true, recursive: true });
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
