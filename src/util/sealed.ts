import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { accountKey } from './account-key.js';

const MAGIC = 'spx-sealed';

/**
 * A cache file of spx's own, sealed with an HMAC under this account's key:
 * `spx-sealed <key id> <mac>\n<body>`. On reading, a body is believed only
 * if its seal verifies, so a cache in `.spx/` can vouch only for what this
 * account's spx wrote: an edited, truncated or forged file (a config cache
 * claiming a `../` output was validated, a glob cache listing a file outside
 * the project) is rebuilt, never trusted. One HMAC over the file, about a
 * millisecond for 1.5 MB: cheaper than checking 10,000 entries one by one.
 *
 * Without a key (see account-key.ts) nothing is ever believed.
 */
export function seal(body: string): string | undefined {
  const key = accountKey();
  if (key === undefined) return undefined;
  return `${MAGIC} ${keyId(key)} ${mac(key, body)}\n${body}`;
}

/**
 * The body of a sealed file, or why it is not believed: a message for a
 * damaged or edited file, undefined for one sealed by another account or
 * machine (a `.spx/` restored in CI), which is expected and not worth a note.
 */
export function unseal(text: string): { body: string } | { problem: string | undefined } {
  const key = accountKey();
  if (key === undefined) return { problem: undefined };
  const newline = text.indexOf('\n');
  const header = newline === -1 ? [] : text.slice(0, newline).split(' ');
  if (header.length !== 3 || header[0] !== MAGIC) return { problem: 'is not in the form spx writes it' };
  if (header[1] !== keyId(key)) return { problem: undefined };
  const body = text.slice(newline + 1);
  const expected = Buffer.from(mac(key, body), 'hex');
  const given = Buffer.from(header[2]!, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { problem: 'was changed since spx wrote it' };
  return { body };
}

function mac(key: Buffer, body: string): string {
  return createHmac('sha256', key).update(body, 'utf8').digest('hex');
}

let knownId: { key: Buffer; id: string } | undefined;

/** Names the key without revealing it, so that a file sealed elsewhere is told from a damaged one. */
function keyId(key: Buffer): string {
  if (knownId?.key !== key) knownId = { key, id: createHash('sha256').update('spx key id\0').update(key).digest('hex').slice(0, 16) };
  return knownId.id;
}

/**
 * The parsed JSON body of a sealed file, or why it is not believed (as
 * `unseal` says it): what every sealed cache reads before checking its shape.
 */
export function unsealJson(text: string): { value: unknown } | { problem: string | undefined } {
  const opened = unseal(text);
  if ('problem' in opened) return opened;
  try {
    return { value: JSON.parse(opened.body) as unknown };
  } catch {
    return { problem: 'is not valid JSON' };
  }
}
