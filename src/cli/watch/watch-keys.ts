import { fstatSync } from 'node:fs';
import { createInterface, type Interface } from 'node:readline';

/** What the user asked for between builds. */
export type WatchKey = 'run-models' | 'quit';

/** How keys reach the watch; see `listenForKeys`. */
export interface WatchKeys {
  readonly input: 'keys' | 'lines' | 'none';
  /** Stops reading while a build runs: the terminal is the build's (Ctrl-C, the review prompt). */
  pause(): void;
  resume(): void;
  dispose(): void;
}

const CTRL_C = '\x03';
const CTRL_D = '\x04';

/**
 * On a terminal, single keys in raw mode while the watch is idle: `m` runs
 * the model and agent nodes, `q` quits. Raw mode turns Ctrl-C into a key,
 * so it is passed on as the SIGINT it would have been. On a pipe (an
 * editor or a script driving the watch), lines `m` and `q`. Nothing is read
 * from anything else (/dev/null, a file).
 */
export function listenForKeys(onKey: (key: WatchKey) => void): WatchKeys {
  const stdin = process.stdin;
  if (stdin.isTTY) return terminalKeys(stdin, onKey);
  if (isPipe()) return pipedLines(createInterface({ input: stdin }), onKey);
  return { input: 'none', pause() {}, resume() {}, dispose() {} };
}

function isPipe(): boolean {
  try {
    const stats = fstatSync(0);
    return stats.isFIFO() || stats.isSocket();
  } catch {
    return false;
  }
}

function terminalKeys(stdin: NodeJS.ReadStream, onKey: (key: WatchKey) => void): WatchKeys {
  const onData = (data: Buffer): void => {
    for (const key of data.toString('utf8')) {
      if (key === CTRL_C) process.kill(process.pid, 'SIGINT');
      else if (key === 'q' || key === 'Q' || key === CTRL_D) onKey('quit');
      else if (key === 'm' || key === 'M') onKey('run-models');
    }
  };
  let reading = false;
  const keys: WatchKeys = {
    input: 'keys',
    pause() {
      if (!reading) return;
      reading = false;
      stdin.off('data', onData);
      try {
        stdin.setRawMode(false);
      } catch {
        // The terminal is gone (SIGHUP): no mode to restore.
      }
      stdin.pause();
    },
    resume() {
      if (reading) return;
      reading = true;
      stdin.setRawMode(true);
      stdin.on('data', onData);
      stdin.resume();
    },
    dispose: () => keys.pause(),
  };
  return keys;
}

function pipedLines(lines: Interface, onKey: (key: WatchKey) => void): WatchKeys {
  // Lines typed during a build wait in the stream until the watch is idle again.
  lines.on('line', (line) => {
    const word = line.trim().toLowerCase();
    if (word === 'q' || word === 'quit') onKey('quit');
    else if (word === 'm') onKey('run-models');
  });
  return {
    input: 'lines',
    pause: () => lines.pause(),
    resume: () => lines.resume(),
    dispose: () => {
      lines.close();
      process.stdin.destroy();
    },
  };
}
