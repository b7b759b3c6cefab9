/** `spx build`'s command line: its options, and what they mean once checked (the help is build.ts's). */
import { availableParallelism } from 'node:os';
import { OUTPUT_MODES, type OutputMode } from '../render/select.js';
import { UserError } from '../util/errors.js';
import { parseCommandArgs, parseJobs } from './args.js';

const OPTIONS = {
  jobs: { type: 'string', short: 'j' },
  'keep-going': { type: 'boolean', short: 'k' },
  force: { type: 'boolean' },
  'dry-run': { type: 'boolean', short: 'n' },
  exact: { type: 'boolean' },
  explain: { type: 'boolean' },
  json: { type: 'boolean' },
  output: { type: 'string', short: 'o' },
  verbose: { type: 'boolean', short: 'v' },
  'no-wait': { type: 'boolean' },
  'cache-dir': { type: 'string' },
  'no-cache': { type: 'boolean' },
  'cache-only': { type: 'boolean' },
  'remote-cache': { type: 'string' },
  'remote-read-only': { type: 'boolean' },
  approve: { type: 'boolean' },
  provider: { type: 'string' },
  watch: { type: 'boolean' },
  // `--watch=all`, as parseArgs takes no optional value (see parseOptions).
  'watch-all': { type: 'boolean' },
  'max-tokens': { type: 'string' },
  'max-cost': { type: 'string' },
} as const;

export type BuildCommand = NonNullable<ReturnType<typeof parseOptions>>;

/** The command line, checked; undefined for --help. */
export function parseOptions(args: string[]) {
  const { values, positionals } = parseCommandArgs(
    'build',
    args.map((arg) => (arg === '--watch=all' ? '--watch-all' : arg)),
    OPTIONS,
  );
  if (values.help) return undefined;
  const watch = values.watch === true || values['watch-all'] === true;
  if (watch && values['dry-run']) throw new UserError('--watch and --dry-run do not go together: spx status says what is stale');
  const jobs = parseJobs(values.jobs, availableParallelism());
  if (values['no-cache'] && values['cache-only']) throw new UserError('--no-cache and --cache-only contradict each other');
  // --force means "run it again", a model node too; --cache-only means "call no model".
  if (values.force && values['cache-only']) throw new UserError('--force and --cache-only contradict each other');
  return { values, targets: positionals, jobs, watch, output: parseOutputMode(values.output, values.json ?? false) };
}

/** `--output MODE`, of which `--json` is the short form. */
function parseOutputMode(output: string | undefined, json: boolean): OutputMode {
  if (output === undefined) return json ? 'json' : 'auto';
  if (!(OUTPUT_MODES as readonly string[]).includes(output)) throw new UserError(`--output expects one of ${OUTPUT_MODES.join(', ')}, got "${output}"`);
  if (json && output !== 'json') throw new UserError(`--json and --output ${output} contradict each other`);
  return output as OutputMode;
}

/** What besides files a build's verdict is for (fresh-snapshot.ts): the pipeline file, the targets as named, a provider override. */
export function verdictKey(file: string, { values, targets }: BuildCommand): string {
  return JSON.stringify([file, targets, values.provider ?? null]);
}
