import type { PipelineConfig } from '../../config/types.js';
import { UserError } from '../../util/errors.js';
import { parseCommandArgs } from '../args.js';
import { EXIT } from '../exit-codes.js';
import { openProject } from '../project.js';
import { byValue, splitInstanceId } from '../../graph/instance-id.js';

export const help = `Usage: spx graph [--format mermaid|dot|json]

Prints the pipeline's graph. Solid edges are "needs" (changes trigger a
rerun), dotted edges are "uses" (built first, order-only). The mermaid
output renders as a picture in a fenced mermaid block on GitHub.

Options:
      --format F     mermaid (default), dot or json
  -f, --file FILE    pipeline file (default: spx.yaml here or in the nearest
                     directory above, up to the repository root)
  -C, --directory DIR
                     run as if started in DIR
  -h, --help         show this help

Exit codes: 0 printed, 2 usage or pipeline error.`;

export async function run(args: string[]): Promise<number> {
  const { values } = parseCommandArgs('graph', args, { format: { type: 'string' } });
  if (values.help) {
    console.log(help);
    return EXIT.ok;
  }
  const format = values.format ?? 'mermaid';
  const render = Object.hasOwn(FORMATS, format) ? FORMATS[format] : undefined;
  if (!render) throw new UserError(`--format must be one of: ${Object.keys(FORMATS).join(', ')}; got "${format}"`);
  const { pipeline } = await openProject({ directory: values.directory, file: values.file });
  process.stdout.write(render(pipeline.config));
  return EXIT.ok;
}

const FORMATS: Record<string, (config: PipelineConfig) => string> = {
  mermaid(config) {
    // The instances of one feature (one foreach value) are drawn together.
    const features = byValue(Object.keys(config.nodes));
    const id = mermaidIds([...Object.keys(config.nodes), ...[...features.keys()].map((value) => `feature:${value}`)]);
    const lines = ['flowchart LR'];
    const box = (name: string): string => `${id(name)}["${name} (${config.nodes[name]!.kind})"]`;
    for (const name of Object.keys(config.nodes)) if (splitInstanceId(name) === undefined) lines.push(`  ${box(name)}`);
    for (const [value, instances] of features) {
      lines.push(`  subgraph ${id(`feature:${value}`)}["${value}"]`);
      for (const name of instances) lines.push(`    ${box(name)}`);
      lines.push('  end');
    }
    for (const [name, node] of Object.entries(config.nodes)) {
      for (const needed of node.needs) lines.push(`  ${id(needed)} --> ${id(name)}`);
      for (const used of node.uses) lines.push(`  ${id(used)} -.-> ${id(name)}`);
    }
    return lines.join('\n') + '\n';
  },
  dot(config) {
    const lines = ['digraph spx {', '  rankdir=LR;'];
    for (const [name, node] of Object.entries(config.nodes)) lines.push(`  "${name}" [label="${name}\\n(${node.kind})"];`);
    for (const [name, node] of Object.entries(config.nodes)) {
      for (const needed of node.needs) lines.push(`  "${needed}" -> "${name}";`);
      for (const used of node.uses) lines.push(`  "${used}" -> "${name}" [style=dashed];`);
    }
    lines.push('}');
    return lines.join('\n') + '\n';
  },
  json(config) {
    const nodes = Object.entries(config.nodes).map(([name, node]) => ({ name, kind: node.kind, needs: node.needs, uses: node.uses }));
    return JSON.stringify({ nodes }, null, 2) + '\n';
  },
};

/** Words a mermaid flowchart reads as syntax, not as a node id (`end` closes a subgraph). */
const MERMAID_KEYWORDS = new Set(['end', 'graph', 'flowchart', 'subgraph', 'direction', 'style', 'class', 'classdef', 'click', 'linkstyle', 'call', 'href']);

/**
 * Node names as mermaid ids: a plain word as it is, so that the text stays
 * readable; any other name (a keyword, or one with "-", which mermaid may
 * read as an edge) as n1, n2, …, its label still showing the name.
 */
function mermaidIds(names: string[]): (name: string) => string {
  const plain = (name: string): boolean => /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) && !MERMAID_KEYWORDS.has(name.toLowerCase());
  const taken = new Set(names.filter(plain));
  const ids = new Map<string, string>();
  let next = 1;
  for (const name of names) {
    if (plain(name)) {
      ids.set(name, name);
      continue;
    }
    while (taken.has(`n${next}`)) next++;
    ids.set(name, `n${next}`);
    taken.add(`n${next}`);
  }
  return (name) => ids.get(name) ?? name;
}
