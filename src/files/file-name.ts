/**
 * File names are data: any bytes but `/` and NUL. spx keeps paths as
 * strings, and Node can address a file by a string path only when its name
 * is valid UTF-8 (other bytes decode to U+FFFD, a name no file has). These
 * helpers tell such names apart and print any name safely.
 */

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** The name as a string, or undefined when its bytes are not valid UTF-8 (no string path can reach it). */
export function decodeName(bytes: Uint8Array): string | undefined {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/** What a terminal shows of a name unquoted: no space, quote, backslash or control character. */
const PLAIN = /^[^\s"\\\p{Cc}\p{Cf}]+$/u;

/**
 * A name fit for one line of output: as is when plain, else quoted with
 * JSON's escapes, invalid UTF-8 bytes as `\xff` and C1 controls as `\u009b`,
 * so that a hostile name can neither break a line nor drive the terminal.
 */
export function displayName(name: string | Uint8Array): string {
  if (typeof name === 'string') return PLAIN.test(name) ? name : quote(name);
  const decoded = decodeName(name);
  if (decoded !== undefined) return displayName(decoded);
  let text = '';
  for (let i = 0; i < name.length; ) {
    const length = sequenceLength(name, i);
    if (length === 0) {
      text += `\\x${name[i]!.toString(16).padStart(2, '0')}`;
      i++;
    } else {
      text += quote(strictUtf8.decode(name.subarray(i, i + length))).slice(1, -1);
      i += length;
    }
  }
  return `"${text}"`;
}

function quote(text: string): string {
  return JSON.stringify(text).replace(/[\p{Cc}\p{Cf}]/gu, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The length of the valid UTF-8 sequence at `start`, or 0 when the byte there starts none. */
function sequenceLength(bytes: Uint8Array, start: number): number {
  for (let length = 1; length <= 4 && start + length <= bytes.length; length++) {
    if (decodeName(bytes.subarray(start, start + length)) !== undefined) return length;
  }
  return 0;
}
