import { isCi } from '../util/ci.js';

/** Asking needs a person: a terminal on both ends, not CI, not --json. */
export function canAsk(json: boolean): boolean {
  return !json && !isCi(process.env) && process.stdin.isTTY === true && process.stdout.isTTY === true;
}

/** A y/N question on the terminal; anything but y or yes is no. */
export async function askYesNo(question: string): Promise<'yes' | 'no' | 'interrupted'> {
  const { createInterface } = await import('node:readline/promises');
  const readline = createInterface({ input: process.stdin, output: process.stdout });
  try {
    const answer = await readline.question(question);
    return /^y(es)?$/i.test(answer.trim()) ? 'yes' : 'no';
  } catch (error) {
    // The terminal is in raw mode while it asks: Ctrl-C reaches readline as a key, not as SIGINT.
    if ((error as NodeJS.ErrnoException).code === 'ABORT_ERR') return 'interrupted';
    throw error;
  } finally {
    readline.close();
  }
}
