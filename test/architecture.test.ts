import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './helpers/project.js';

/**
 * The layers of STYLE.md, low to high: an import only goes down or sideways,
 * so that a folder can be read, and tested, knowing only those below it.
 */
const LAYERS: Record<string, number> = {
  util: 0,
  config: 1,
  graph: 2,
  files: 2,
  fingerprint: 2,
  state: 2,
  cache: 2,
  providers: 3,
  nodes: 3,
  cost: 3,
  init: 3,
  scheduler: 4,
  render: 5,
  cli: 6,
};

const SRC = path.join(REPO_ROOT, 'src');

/** Every module of src/ → the modules of src/ it imports, statically or with import(). */
function importGraph(): Map<string, string[]> {
  const modules = (readdirSync(SRC, { recursive: true }) as string[]).filter((file) => file.endsWith('.ts'));
  const graph = new Map<string, string[]>();
  for (const module of modules) {
    const text = readFileSync(path.join(SRC, module), 'utf8');
    const imported = [...text.matchAll(/(?:from\s+|import\s*\(\s*)'(\.{1,2}\/[^']+)\.js'/g)].map((match) =>
      path.relative(SRC, path.resolve(SRC, path.dirname(module), `${match[1]}.ts`)),
    );
    graph.set(module, imported);
  }
  return graph;
}

describe('the layout of src/', () => {
  const graph = importGraph();

  it('puts every module in a folder of a known layer', () => {
    const unknown = [...graph.keys()].filter((module) => LAYERS[module.split(path.sep)[0]!] === undefined);
    expect(unknown).toEqual([]);
  });

  it('has no import that goes up the layers', () => {
    const layer = (module: string): number => LAYERS[module.split(path.sep)[0]!] ?? Infinity;
    const upward = [...graph].flatMap(([module, imports]) => imports.filter((target) => layer(target) > layer(module)).map((target) => `${module} -> ${target}`));
    expect(upward).toEqual([]);
  });

  it('has no import cycle', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (module: string, stack: string[]): void => {
      state.set(module, 'open');
      stack.push(module);
      for (const target of graph.get(module) ?? []) {
        if (state.get(target) === 'open') cycles.push([...stack.slice(stack.indexOf(target)), target].join(' -> '));
        else if (!state.has(target)) visit(target, stack);
      }
      stack.pop();
      state.set(module, 'done');
    };
    for (const module of graph.keys()) if (!state.has(module)) visit(module, []);
    expect(cycles).toEqual([]);
  });
});
