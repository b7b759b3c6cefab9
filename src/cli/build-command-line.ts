/** `spx build`'s command line: its help, its options, and what they mean once checked. */
import { availableParallelism } from 'node:os';
import { OUTPUT_MODES, type OutputMode } from '../render/select.js';
import { UserError } from '../util/errors.js';
import { parseCommandArgs, parseJobs } from './args.js';

export const help = `Usage: spx build [options] [NODE...]

Builds the named nodes (default: all) and everything they need, running only
the nodes that are stale, independent ones in parallel.

Options:
  -j, --jobs N       run up to N nodes at once (default: the number of CPUs)
  -k, --keep-going   after a failure, finish every node that does not depend on it
      --force        rebuild the named nodes (or all) even when fresh
  -n, --dry-run      say what would run, and why, without running anything; for
                     each model node, the tokens and cost it would use
      --exact        for the forecast (--dry-run, a budget's check): ask the provider
                     to count the prompt's tokens where it can (Gemini's countTokens)
      --explain      say why each node that runs is stale
  -o, --output MODE  how to show the build: auto (default: a live task list on
                     a terminal, plain lines in CI, in pipes and when NO_COLOR,
                     FORCE_COLOR=0 or TERM=dumb is set), tasks, plain, or json
      --json         one JSON event per line on stdout (--output json)
  -v, --verbose      also list fresh nodes, and show the output of every node
                     that succeeds (a failed node's output is always shown;
                     showOutput: true in spx.yaml does this for one node)
      --no-wait      fail at once if another build holds the project lock
      --cache-dir D  the cache directory (default: $SPX_CACHE_DIR, else .spx/cache)
      --no-cache     neither restore from nor store into the cache (local or remote)
      --cache-only   for CI: no model or agent is called: spec, plan and
                     execute nodes must be restored from the cache, or the
                     build fails naming them; run and context nodes (which
                     spend no token) run as usual
      --remote-cache URL
                     a Turborepo Remote Cache API server behind the local cache
                     (default: $SPX_REMOTE_CACHE_URL, else cache.remote.url); the
                     token is read from $SPX_REMOTE_CACHE_TOKEN, the team from
                     $SPX_REMOTE_CACHE_TEAM or cache.remote.team
      --remote-read-only
                     restore from the remote cache, upload nothing (pull
                     requests; also SPX_REMOTE_CACHE_READ_ONLY=1)
      --approve      approve every output awaiting review without asking (CI);
                     it does not bypass a budget
      --max-tokens N the budget in model tokens (input + output) of this build:
                     refused, nothing sent, when the forecast exceeds it; no new
                     model node starts once the calls' spend crosses it (exit 1)
      --max-cost USD the same in US dollars, from the providers' price settings
                     (both win over budget: in spx.yaml; see docs/cost.md)
      --provider P   use provider P for every model node, for this run
                     (--provider rehearse, built in, rehearses the pipeline
                     offline; echo is its older name)
      --watch        build, then build again whenever an input, an output or
                     the pipeline file changes; a save never runs a model or
                     agent node (they are reported stale): on a terminal, m
                     runs them, q quits (see docs/watch.md)
      --watch=all    as --watch, but a save runs model and agent nodes too
  -f, --file FILE    pipeline file (default: spx.yaml here or in the nearest
                     directory above, up to the repository root)
  -C, --directory DIR
                     run as if started in DIR
  -h, --help         show this help

Exit codes: 0 built, 1 a node failed (or, with --cache-only, missed the cache; or over budget),
3 stopped at a review gate (spx approve NODE, then build again), 2 usage or pipeline error,
130 interrupted (Ctrl-C), 143 terminated (SIGTERM), 129 hung up (SIGHUP).`;

export const OPTIONS = {
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
