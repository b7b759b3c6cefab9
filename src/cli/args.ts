import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UserError } from '../util/errors.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/** Options every command takes. */
export const COMMON_OPTIONS = {
  file: { type: 'string', short: 'f' },
  directory: { type: 'string', short: 'C' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies Options;

/** node:util's parser, with its errors turned into usage errors (exit 2, no stack). */
export function parseCommandArgs<O extends Options>(command: string, args: string[], options: O) {
  try {
    return parseArgs({ args, options: { ...COMMON_OPTIONS, ...options }, allowPositionals: true, strict: true });
  } catch (error) {
    // Node says "Unknown option '--x'. To specify a positional argument…"; spx's messages start in lower case.
    const message = (error as Error).message.replace(/\. To specify a positional argument.*$/s, '').replace(/^[A-Z]/, (letter) => letter.toLowerCase());
    throw new UserError(`${message} (see: spx ${command} --help)`);
  }
}

export function parseJobs(value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const jobs = Number(value);
  if (!Number.isInteger(jobs) || jobs < 1) throw new UserError(`-j expects a whole number of at least 1, got "${value}"`);
  return jobs;
}
