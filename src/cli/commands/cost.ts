import { join } from 'node:path';
import { formatUsd } from '../../cost/describe-estimate.js';
import { LEDGER_FILE, readLedger } from '../../cost/ledger.js';
import { addUpLedger, type NodeCost, type Tally } from '../../cost/ledger-totals.js';
import { UserError } from '../../util/errors.js';
import { parseCommandArgs } from '../args.js';
import { EXIT } from '../exit-codes.js';
import { projectFile } from '../project.js';

export const help = `Usage: spx cost [options]

What the model and agent calls of this clone cost, from .spx/ledger.jsonl: per
node, what was spent (calls made) and what the cache saved (restores, valued at
what the original call cost), and in total. Costs come from the providers'
price settings (or an agent's own account); without a price, tokens only.
Forecasts before a build: spx build --dry-run. See docs/cost.md.

Options:
      --since WHEN   only calls from WHEN on: a date (2026-05-01), a time
                     (2026-05-01T12:00Z), or a span back from now (30m, 24h, 7d)
      --json         print {"nodes": [{"node", "calls", "spent", "restores", "saved"}],
                     "total": {...}}; spent and saved are {inputTokens, outputTokens, costUsd?}
  -f, --file FILE    pipeline file (default: spx.yaml here or in the nearest
                     directory above, up to the repository root)
  -C, --directory DIR
                     run as if started in DIR
  -h, --help         show this help

Exit codes: 0 success, 2 usage error (a --since it cannot read).`;

export async function run(args: string[]): Promise<number> {
  const { values } = parseCommandArgs('cost', args, { since: { type: 'string' }, json: { type: 'boolean' } });
  if (values.help) {
    console.log(help);
    return EXIT.ok;
  }
  const since = values.since === undefined ? undefined : parseSince(values.since, new Date());
  // The ledger is read as it is: spx.yaml need not load (or even be valid) to say what was spent.
  const stateDir = join(projectFile({ directory: values.directory, file: values.file }), '..', '.spx');
  const lines = readLedger(stateDir).filter((line) => since === undefined || Date.parse(line.time) >= since.getTime());
  const { nodes, total } = addUpLedger(lines);
  if (values.json) {
    console.log(JSON.stringify({ nodes, total }, null, 2));
    return EXIT.ok;
  }
  if (lines.length === 0) {
    console.log(`no model or agent calls recorded${since ? ` since ${since.toISOString()}` : ''} (${join('.spx', LEDGER_FILE)})`);
    return EXIT.ok;
  }
  printTable([...nodes, { node: 'total', ...total }]);
  return EXIT.ok;
}

/** WHEN as an instant: a date or time Date.parse reads, or `N` minutes, hours or days back from `now`. */
export function parseSince(text: string, now: Date): Date {
  const span = /^(\d+)\s*([mhd])$/.exec(text.trim());
  if (span) {
    const unitMs = { m: 60_000, h: 3_600_000, d: 86_400_000 }[span[2] as 'm' | 'h' | 'd'];
    return new Date(now.getTime() - Number(span[1]) * unitMs);
  }
  const parsed = Date.parse(text);
  if (Number.isNaN(parsed)) throw new UserError(`--since expects a date (2026-05-01), a time (2026-05-01T12:00Z) or a span (30m, 24h, 7d), got "${text}"`);
  return new Date(parsed);
}

function printTable(rows: readonly NodeCost[]): void {
  const cells = rows.map((row) => [row.node, String(row.calls), tokens(row.spent), usd(row.spent), String(row.restores), tokens(row.saved), usd(row.saved)]);
  const header = ['node', 'calls', 'spent tokens', 'spent', 'restores', 'saved tokens', 'saved'];
  const widths = header.map((title, i) => Math.max(title.length, ...cells.map((cell) => cell[i]!.length)));
  const line = (cell: readonly string[]): string => cell.map((text, i) => (i === 0 ? text.padEnd(widths[i]!) : text.padStart(widths[i]!))).join('  ');
  console.log(line(header));
  for (const cell of cells) console.log(line(cell));
}

function tokens(tally: Tally): string {
  return (tally.inputTokens + tally.outputTokens).toLocaleString('en-US');
}

function usd(tally: Tally): string {
  return tally.costUsd === undefined ? '-' : formatUsd(tally.costUsd);
}
