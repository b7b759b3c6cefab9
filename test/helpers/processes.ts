import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Pids of live processes whose command line matches `pattern` (`pgrep -f`), zombies excluded. */
export function livePids(pattern: string): number[] {
  const result = spawnSync('pgrep', ['-f', pattern], { encoding: 'utf8' });
  return result.stdout
    .split('\n')
    .filter((line) => line !== '')
    .map(Number)
    .filter((pid) => !isZombie(pid));
}

/** SIGKILLs these pids, ignoring any already gone. */
export function killPids(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

/** Whether the process `pid` still runs (a zombie has stopped). */
export function isRunning(pid: number): boolean {
  return !isZombie(pid);
}

function isZombie(pid: number): boolean {
  try {
    // Field 3 of /proc/PID/stat, after the parenthesised command name.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}
