import type { PipelineConfig, ProviderConfig } from '../config/types.js';

/**
 * What to do after `spx init`, read off the pipeline it wrote: which keys and
 * programs its providers need, and which outputs wait for review.
 */
export function nextSteps(config: PipelineConfig, options: { cd?: string }): string {
  const steps: string[][] = [];
  if (options.cd !== undefined) steps.push([`cd ${options.cd}`]);
  const feature = Object.values(config.nodes).find((node) => node.foreach !== undefined)?.foreach;
  steps.push(
    feature === undefined
      ? ['Describe the change you want in USER-SPEC.md (the template says what goes where).']
      : ['Start a feature, then describe it in the file this writes (the template says what goes where):', `    spx new NAME          (writes ${feature.replace(/\{[^}]*\}/, 'NAME')})`],
  );

  const review = Object.entries(config.nodes).filter(([, node]) => 'review' in node && node.review);
  // A foreach node's outputs are shown for a feature called NAME.
  const reviewed = review.flatMap(([, node]) => node.outputs.map((output) => output.replace(/\{[^}]*\}/g, 'NAME')));
  const gate =
    reviewed.length > 0 ? `It stops at the review gate (exit code 3), and ${reviewed.join(', ')} say${reviewed.length === 1 ? 's' : ''} it is a rehearsal.` : '';
  steps.push(['Rehearse the pipeline offline, with no keys and no model calls:', '    spx build --provider rehearse', ...(gate ? [gate] : [])]);

  const needs = requirements(config);
  steps.push(['Run it for real:', ...needs.map((need) => `    ${need}`), '    spx build']);

  if (review.length > 0) {
    const names = review.map(([name]) => name);
    const downstream = Object.values(config.nodes).some((node) => names.some((name) => node.needs.includes(name) || node.uses.includes(name)));
    steps.push([
      `Review ${reviewed.join(', ')} (edit ${reviewed.length === 1 ? 'it' : 'them'} if need be), then approve${downstream ? ' and build on' : ''}:`,
      `    spx approve ${names.join(' ')}`,
      ...(downstream ? ['    spx build'] : []),
    ]);
  }

  return ['Next steps:', ...steps.flatMap((lines, i) => lines.map((line, j) => `${j === 0 ? `${i + 1}.`.padEnd(3) : '   '} ${line}`))].join('\n');
}

/** One line per key to set or program to install, naming the providers that need it. */
function requirements(config: PipelineConfig): string[] {
  const byNeed = new Map<string, string[]>();
  for (const node of Object.values(config.nodes)) {
    if (!('provider' in node)) continue;
    const need = requirement(node.provider);
    if (need === undefined) continue;
    const providers = byNeed.get(need) ?? [];
    if (!providers.includes(node.provider.name)) providers.push(node.provider.name);
    byNeed.set(need, providers);
  }
  const width = Math.max(0, ...[...byNeed.keys()].map((need) => need.length));
  return [...byNeed].map(([need, providers]) => `${need.padEnd(width)}   (provider ${providers.map((p) => `"${p}"`).join(', ')})`);
}

function requirement(provider: ProviderConfig): string | undefined {
  switch (provider.type) {
    case 'gemini':
      return `export ${provider.apiKeyEnv}=<your key>`;
    case 'command':
      return `put ${provider.command[0]} on your PATH`;
    case 'claude-code':
      return `put ${provider.command[0]} (Claude Code) on your PATH, signed in`;
    case 'echo':
      return undefined;
  }
}
