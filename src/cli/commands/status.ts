import { parseCommandArgs } from '../args.js';
import { EXIT } from '../exit-codes.js';
import { openProject } from '../project.js';
import { withProvider } from '../../config/override-provider.js';
import { formatMetrics } from '../../render/metrics.js';
import { describeSkipReason, describeStaleReason } from '../../render/describe.js';
import { featureStandings } from '../feature-summary.js';
import { dryRun, openRecordedState } from '../dry-run.js';
import { counted } from '../../util/plural.js';
import type { ForecastTotals, NodeEstimate } from '../../cost/estimate.js';
import { describeEstimate, describeTotals } from '../../cost/describe-estimate.js';
import { pricesUsed } from '../../cost/prices-used.js';

export const help = `Usage: spx status [options] [NODE...]

Says for every node (default: all) whether it is fresh or stale, and for a
stale node exactly why: which input file, setting, upstream output or
environment variable changed, that it never ran, or that an output is
missing. An output edited by hand keeps its node fresh (it is kept as the
node's output) and is listed as such. A stale model node shows the tokens (and,
with a price, the dollars) it would use, as spx build --dry-run forecasts them
(docs/cost.md). Runs nothing and changes no recorded state.

Options:
      --json         print {"nodes": [{"name", "state", "reasons", "handEdited", "cached", "metrics"?,
                     "estimate"?}], "features"?: [{"feature", "stands"}], "forecast"?,
                     "prices"? (with --cost)}
      --cost         also say which price each provider's forecast used, and the tokenizer
      --cache-dir D  the cache directory, to tell which stale nodes it holds
      --provider P   as if every model node used provider P, as spx build
                     --provider P does (spx status --provider rehearse after
                     a rehearsal)
  -f, --file FILE    pipeline file (default: spx.yaml here or in the nearest
                     directory above, up to the repository root)
  -C, --directory DIR
                     run as if started in DIR
  -h, --help         show this help

Exit codes: 0 (fresh or not), 2 usage or pipeline error.`;

interface NodeStatus {
  name: string;
  state: 'fresh' | 'stale' | 'blocked' | 'awaiting-review';
  /** Worded as the build words them (render/describe.ts): the lines status prints, and its `--json` gives. */
  reasons: string[];
  /** Outputs a human changed after spx wrote them; kept as the node's output. */
  handEdited: string[];
  /** A stale node whose outputs for its new fingerprint are in the cache. */
  cached: boolean;
  /** What a fresh node's last run measured (a bundle's tokens). */
  metrics?: Record<string, number | string>;
  /** A stale model node: what it would use. */
  estimate?: NodeEstimate;
}

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('status', args, {
    json: { type: 'boolean' },
    cost: { type: 'boolean' },
    'cache-dir': { type: 'string' },
    provider: { type: 'string' },
  });
  if (values.help) {
    console.log(help);
    return EXIT.ok;
  }
  const opened = await openProject({ directory: values.directory, file: values.file });
  const project = values.provider === undefined ? opened : { ...opened, pipeline: withProvider(opened.pipeline, values.provider) };
  const state = openRecordedState(project);
  const events = await dryRun(project, state, { targets: positionals, cacheDir: values['cache-dir'], writeNothing: false, forecast: true });
  const nodes: NodeStatus[] = [];
  let forecast: ForecastTotals | undefined;
  for (const event of events) {
    if (event.type === 'fresh') {
      const metrics = state.get(event.node)?.metrics;
      nodes.push({ name: event.node, state: 'fresh', reasons: [], handEdited: event.handEdited, cached: false, ...(metrics ? { metrics } : {}) });
    }
    if (event.type === 'stale') {
      nodes.push({ name: event.node, state: 'stale', reasons: event.reasons.map(describeStaleReason), handEdited: [], cached: event.cached, ...(event.estimate ? { estimate: event.estimate } : {}) });
    }
    if (event.type === 'build-end') forecast = event.summary.forecast;
    if (event.type === 'review') {
      const node = nodes.find((n) => n.name === event.node);
      if (node && node.state === 'fresh') {
        node.state = 'awaiting-review';
        node.reasons.push(`approve ${event.outputs.join(', ')} with: spx approve ${event.node}`);
      }
    }
    if (event.type === 'skipped') nodes.push({ name: event.node, state: 'blocked', reasons: [describeSkipReason(event.because)], handEdited: [], cached: false });
  }

  const features = featureStandings(project.pipeline.config, nodes);
  const stale = nodes.filter((n) => n.state === 'stale' || n.state === 'blocked');
  const prices = values.cost ? pricesUsed(project.pipeline, stale.map((n) => n.name)) : undefined;
  const modelsWouldRun = forecast !== undefined && nodes.some((n) => n.estimate);
  if (values.json) {
    console.log(JSON.stringify({ nodes, ...(features.length > 0 ? { features } : {}), ...(modelsWouldRun ? { forecast } : {}), ...(prices ? { prices: { providers: prices.providers, tokenizer: prices.tokenizer } } : {}) }, null, 2));
    return EXIT.ok;
  }
  const width = Math.max(...nodes.map((n) => n.name.length));
  for (const node of nodes) {
    const notes = [formatMetrics(node.metrics), node.estimate ? describeEstimate(node.estimate) : '', node.cached ? 'in cache' : '', node.handEdited.length > 0 ? `edited by hand: ${node.handEdited.join(', ')}` : '']
      .filter(Boolean)
      .join('; ');
    console.log(`${node.name.padEnd(width)}  ${node.state}${notes ? ` (${notes})` : ''}`);
    for (const reason of node.reasons) console.log(`${' '.repeat(width)}    ${reason}`);
  }
  if (features.length > 0) {
    const featureWidth = Math.max(...features.map((f) => f.feature.length));
    console.log('features:');
    for (const { feature, stands } of features) console.log(`  ${feature.padEnd(featureWidth)}  ${stands}`);
  }
  if (modelsWouldRun) console.log(describeTotals(forecast!));
  for (const line of prices?.lines ?? []) console.log(line);
  console.log(stalenessLine(stale.length, nodes.length));
  return EXIT.ok;
}

/** "all 3 nodes are fresh", "the 1 node is fresh", "1 of 3 nodes is stale". */
function stalenessLine(stale: number, total: number): string {
  if (stale === 0) return total === 1 ? 'the 1 node is fresh' : `all ${counted(total, 'node')} are fresh`;
  return `${stale} of ${counted(total, 'node')} ${stale === 1 ? 'is' : 'are'} stale`;
}
