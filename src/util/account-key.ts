import { randomBytes } from 'node:crypto';
import { closeSync, fstatSync, linkSync, mkdirSync, openSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';

const KEY_BYTES = 32;

let memo: { key: Buffer | undefined } | undefined;

/**
 * A random secret that stays in this user account, never in a project: the
 * key of the seals on spx's caches in `.spx/` (see sealed.ts). Whoever can
 * write a project's `.spx/` (a CI cache restored from another job, a
 * tarball, another user) cannot make a seal this key accepts.
 *
 * `$XDG_STATE_HOME/spx/account-key` (default `~/.local/state/spx/`), not a
 * cache directory, because CI setups save and restore `~/.cache` between
 * jobs. Undefined when it can be neither read nor made safely (no home, a
 * read-only one, a key others can read): the caches then vouch for nothing
 * and are rebuilt, slower but sound.
 */
export function accountKey(): Buffer | undefined {
  memo ??= { key: loadOrCreate() };
  return memo.key;
}

function loadOrCreate(): Buffer | undefined {
  let home: string;
  try {
    home = homedir();
  } catch {
    return undefined;
  }
  // The XDG spec has a relative value ignored: it would name a directory per project.
  const xdg = process.env.XDG_STATE_HOME;
  const base = xdg && isAbsolute(xdg) ? xdg : isAbsolute(home) ? join(home, '.local', 'state') : undefined;
  if (base === undefined) return undefined;
  const dir = join(base, 'spx');
  const file = join(dir, 'account-key');
  const existing = read(file);
  if (existing !== 'absent') return existing;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // Written aside, then linked into place: a concurrent spx either wins
    // the link or reads the whole key the winner wrote, never half of one.
    const temp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}`;
    writeFileSync(temp, randomBytes(KEY_BYTES), { mode: 0o600, flag: 'wx' });
    try {
      linkSync(temp, file);
    } catch {
      // Another spx made it first: its key is the key.
    } finally {
      rmSync(temp, { force: true });
    }
  } catch {
    return undefined;
  }
  const made = read(file);
  return made === 'absent' ? undefined : made;
}

/** The key, 'absent', or undefined for a file that must not be trusted as a secret. */
function read(file: string): Buffer | 'absent' | undefined {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'absent' : undefined;
  }
  try {
    const stats = fstatSync(fd);
    const ownUid = process.getuid?.();
    // A key another account owns, or can read, is no secret of this one.
    if (!stats.isFile() || stats.size !== KEY_BYTES || (stats.mode & 0o077) !== 0 || (ownUid !== undefined && stats.uid !== ownUid)) return undefined;
    const key = Buffer.alloc(KEY_BYTES);
    return readSync(fd, key, 0, KEY_BYTES, 0) === KEY_BYTES ? key : undefined;
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}
