import type { PipelineConfig } from '../../config/types.js';
import { UserError } from '../../util/errors.js';
import { parseCommandArgs } from '../args.js';
import { EXIT } from '../exit-codes.js';
import { openProject } from '../project.js';

export const help = `Usage: spx graph [--format mermaid|dot|json]

Prints the pipeline's graph. Solid edges are "needs" (changes trigger a
rerun), dotted edges are "uses" (built first, order-only).

Options:
      --format F     mermaid (default), dot or json
  -f, --file FILE    pipeline file (default: spx.yaml)
  -C DIR             run as if started in DIR
  -h, --help         show this help`;

export async function run(args: string[]): Promise<number> {
  const { values } = parseCommandArgs('graph', args, { format: { type: 'string' } });
  if (values.help) {
    console.log(help);
    return EXIT.ok;
  }
  const format = values.format ?? 'mermaid';
  const render = FORMATS[format];
  if (!render) throw new UserError(`--format must be one of: ${Object.keys(FORMATS).join(', ')}; got "${format}"`);
  const { pipeline } = await openProject({ directory: values.directory, file: values.file });
  process.stdout.write(render(pipeline.config));
  return EXIT.ok;
}

const FORMATS: Record<string, (config: PipelineConfig) => string> = {
  mermaid(config) {
    const lines = ['flowchart LR'];
    for (const [name, node] of Object.entries(config.nodes)) {
      lines.push(`  ${name}["${name} (${node.kind})"]`);
    }
    for (const [name, node] of Object.entries(config.nodes)) {
      for (const needed of node.needs) lines.push(`  ${needed} --> ${name}`);
      for (const used of node.uses) lines.push(`  ${used} -.-> ${name}`);
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
