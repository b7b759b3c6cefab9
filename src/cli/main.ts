import { readFileSync } from 'node:fs';
import { didYouMean } from '../config/suggest.js';
import { UserError, UserErrors } from '../util/errors.js';
import { EXIT } from './exit-codes.js';

interface Command {
  summary: string;
  load(): Promise<{ run(args: string[]): Promise<number>; help: string }>;
}

// Each command is imported only when it is the one asked for: start-up is
// part of every no-op build.
// Without a prototype: `spx toString` is an unknown command, not Object's method.
const COMMANDS: Record<string, Command> = Object.assign(Object.create(null) as Record<string, Command>, {
  init: { summary: 'start a project from a ready pipeline: spx.yaml, USER-SPEC.md', load: () => import('./commands/init.js') },
  new: { summary: 'start a feature: features/NAME/USER-SPEC.md (foreach pipelines)', load: () => import('./commands/new.js') },
  build: { summary: 'build stale nodes (default: all)', load: () => import('./commands/build.js') },
  status: { summary: 'say which nodes are stale, and why', load: () => import('./commands/status.js') },
  check: { summary: 'exit 1 unless every node is fresh and approved (for CI)', load: () => import('./commands/check.js') },
  approve: { summary: "approve a reviewed output (e.g. AI-PLAN.md)", load: () => import('./commands/approve.js') },
  diff: { summary: 'show what changed in a reviewed output since it was approved', load: () => import('./commands/diff.js') },
  why: { summary: 'say which execute node changed a file, from which plan', load: () => import('./commands/why.js') },
  graph: { summary: 'print the graph as mermaid, dot or json', load: () => import('./commands/graph.js') },
  cache: { summary: 'inspect, prune and verify the cache', load: () => import('./commands/cache.js') },
  cost: { summary: 'say what model calls spent, and what the cache saved', load: () => import('./commands/cost.js') },
  clean: { summary: "remove nodes' outputs", load: () => import('./commands/clean.js') },
  validate: { summary: 'check the pipeline file', load: () => import('./commands/validate.js') },
});

const HELP = `spx — a Makefile-style task graph runner for AI coding workflows

Usage: spx <command> [options]

Commands:
${Object.entries(COMMANDS)
  .map(([name, command]) => `  ${name.padEnd(10)} ${command.summary}`)
  .join('\n')}

Common options:
  -f, --file FILE        pipeline file (default: the spx.yaml found in the
                         working directory or the nearest one above it, up to
                         the repository root)
  -C, --directory DIR    run as if started in DIR
  -h, --help             help for spx or a command
  -V, --version          print spx's version

New here? spx init writes spx.yaml and USER-SPEC.md; spx build --provider
rehearse then rehearses the pipeline offline, up to its review gate.

Exit codes: 0 success, 1 a node failed, 2 usage or pipeline error, 3 stopped
at a review gate (spx approve NODE), 130 interrupted (143 on SIGTERM, 129 on
SIGHUP).

Run 'spx <command> --help' for a command's options.`;

/**
 * `spx -C DIR build` as well as `spx build -C DIR`, as with make and git:
 * options that every command takes may come before the command's name.
 */
function hoistCommonOptions(argv: string[]): string[] {
  const leading: string[] = [];
  let i = 0;
  while (i < argv.length && ['-C', '-f', '--file', '--directory'].includes(argv[i]!) && i + 1 < argv.length) {
    leading.push(argv[i]!, argv[i + 1]!);
    i += 2;
  }
  const rest = argv.slice(i);
  return rest.length === 0 ? leading : [rest[0]!, ...leading, ...rest.slice(1)];
}

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = hoistCommonOptions(argv);
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    const topic = name === 'help' ? args[0] : undefined;
    if (topic && COMMANDS[topic]) console.log((await COMMANDS[topic].load()).help);
    else console.log(HELP);
    return EXIT.ok;
  }
  if (name === '--version' || name === '-V') {
    console.log(version());
    return EXIT.ok;
  }
  const command = COMMANDS[name];
  if (!command) {
    const names = Object.keys(COMMANDS);
    throw new UserError(`unknown command "${name}"${didYouMean(name, names)}; commands: ${names.join(', ')} (see spx --help)`);
  }
  if (name === 'build') {
    // Most builds find nothing to do; saying so needs none of the build's code.
    const fresh = await (await import('./fresh-build.js')).buildIfStillFresh(args);
    if (fresh !== undefined) return fresh;
  }
  return (await command.load()).run(args);
}

function version(): string {
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return manifest.version;
}

/**
 * A reader that goes away (`spx build | head -1`) or a terminal that closes
 * makes writes fail (EPIPE, EIO). Output then ends quietly: later writes are
 * dropped, and whatever spx was doing goes on. For a build that means it
 * finishes and records every node, as `spx build > /dev/null` would: the
 * reader lost interest in the output, not in the build, and a build stopped
 * halfway through a node leaves outputs no record accounts for. (make, killed
 * by SIGPIPE at its next write, leaves exactly that; Node ignores SIGPIPE.)
 */
function dropOutputOnceClosed(stream: NodeJS.WriteStream): void {
  stream.on('error', () => undefined);
}

dropOutputOnceClosed(process.stdout);
dropOutputOnceClosed(process.stderr);

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UserError || error instanceof UserErrors) {
      console.error(error.format());
      process.exitCode = EXIT.usage;
      return;
    }
    console.error(`spx: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    console.error('This is a bug in spx; please report it with the command you ran.');
    process.exitCode = EXIT.failed;
  },
);
