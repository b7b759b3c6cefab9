import { lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupProjects, createProject, type TestProject } from './helpers/project.js';

afterEach(cleanupProjects);

/** Each node's state, as `spx status --json` reports it, in the pipeline's order. */
async function states(project: TestProject): Promise<[string, string][]> {
  const result = await project.spx(['status', '--json']);
  expect(result.code, result.stderr).toBe(0);
  return (JSON.parse(result.stdout) as { nodes: { name: string; state: string }[] }).nodes.map((node) => [node.name, node.state]);
}

describe("names from Object.prototype are names like any other", () => {
  const PROTOTYPE_NAMES = `version: 1
vars:
  constructor: c
  __proto__: p
providers:
  toString: { type: echo }
nodes:
  constructor:
    kind: run
    command: echo constructor >> runs.log && echo \${vars.constructor}\${vars.__proto__} > c.txt
    outputs: [c.txt]
    env: [constructor, __proto__]
  toString:
    kind: plan
    provider: toString
    prompt: plan from c.txt
    needs: [constructor]
    output: plan.md
  __proto__:
    kind: run
    command: echo __proto__ >> runs.log && cat c.txt > p.txt
    needs: [constructor]
    uses: [toString]
    outputs: [p.txt]
  hasOwnProperty:
    kind: run
    command: echo hasOwnProperty >> runs.log && cat p.txt > h.txt
    needs: [__proto__]
    outputs: [h.txt]
`;

  it('validates, builds, approves, reports and draws nodes named constructor, toString, __proto__ and hasOwnProperty', async () => {
    const project = createProject({}, PROTOTYPE_NAMES);
    const validate = await project.spx(['validate']);
    expect(validate.stdout).toContain('valid (4 nodes)');

    const first = await project.spx(['build']);
    expect(first.code, first.stdout + first.stderr).toBe(3); // toString awaits review
    expect(project.takeRuns()).toEqual(['constructor']);
    expect(project.read('c.txt')).toBe('cp\n');

    expect((await project.spx(['approve', 'toString'])).code).toBe(0);
    const second = await project.spx(['build']);
    expect(second.code, second.stdout + second.stderr).toBe(0);
    expect(project.takeRuns()).toEqual(['__proto__', 'hasOwnProperty']);

    // Through spx.lock and the config cache: every node is recorded, and fresh.
    expect(Object.keys(project.lock().nodes).sort()).toEqual(['__proto__', 'constructor', 'hasOwnProperty', 'toString']);
    expect(await states(project)).toEqual([
      ['constructor', 'fresh'],
      ['toString', 'fresh'],
      ['__proto__', 'fresh'],
      ['hasOwnProperty', 'fresh'],
    ]);
    const again = await project.spx(['build', 'hasOwnProperty']);
    expect(again.stdout).toContain('0 ran, 4 fresh');

    const graph = await project.spx(['graph', '--format', 'json']);
    expect(JSON.parse(graph.stdout)).toEqual({
      nodes: [
        { name: 'constructor', kind: 'run', needs: [], uses: [] },
        { name: 'toString', kind: 'plan', needs: ['constructor'], uses: [] },
        { name: '__proto__', kind: 'run', needs: ['constructor'], uses: ['toString'] },
        { name: 'hasOwnProperty', kind: 'run', needs: ['__proto__'], uses: [] },
      ],
    });
  });

  it('reruns a prototype-named node and its dependents when what it needs changes', async () => {
    const project = createProject({}, PROTOTYPE_NAMES.replace('uses: [toString]', 'uses: []'));
    expect((await project.spx(['build', 'hasOwnProperty'])).code).toBe(0);
    project.takeRuns();
    project.writeConfig(PROTOTYPE_NAMES.replace('uses: [toString]', 'uses: []').replace('constructor: c', 'constructor: C'));
    const result = await project.spx(['build', 'hasOwnProperty', '--explain']);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(project.takeRuns()).toEqual(['constructor', '__proto__', 'hasOwnProperty']);
    expect(result.stdout).toContain('output of "__proto__" changed');
  });

  it('tells a new input file named constructor, toString or __proto__ from a changed one', async () => {
    // At the root, so that the file names themselves are the keys of spx.lock's input table.
    const project = createProject({ 'a.txt': 'a\n' }, 'version: 1\nnodes:\n  n:\n    kind: run\n    command: mkdir -p out && cat a.txt > out/n\n    inputs: ["*", "!spx.*"]\n    outputs: [out/]\n');
    expect((await project.spx(['build'])).code).toBe(0);
    for (const name of ['constructor', 'toString', '__proto__']) project.write(name, `${name}\n`);
    const result = await project.spx(['build', '--explain']);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    for (const name of ['constructor', 'toString', '__proto__']) expect(result.stdout).toContain(`input added: ${name}`);
    expect(result.stdout).not.toContain('input changed');
    expect((await project.spx(['build'])).stdout).toMatch(/0 ran, 0 restored from cache, 1 fresh|1 fresh/);
  });

  it('says an unknown node or variable named after a prototype member is unknown', async () => {
    const project = createProject(
      {},
      'version: 1\nnodes:\n  a:\n    kind: run\n    command: echo ${vars.toString}\n    needs: [constructor]\n',
    );
    const result = await project.spx(['validate']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('spx.yaml:5:14');
    expect(result.stderr).toContain('unknown variable "${vars.toString}"');
    expect(result.stderr).toContain('spx.yaml:6:13');
    expect(result.stderr).toContain('unknown node "constructor"');
    expect(result.stderr).not.toContain('internal error');
  });
});

describe('hostile YAML ends in a located pipeline error, not a crash or a hang', () => {
  /** Ten levels of nine aliases each: 9^10 strings once expanded. */
  function billionLaughs(): string {
    const lines = ['version: 1', 'lol0: &lol0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
    for (let i = 1; i <= 10; i++) lines.push(`lol${i}: &lol${i} [${Array(9).fill(`*lol${i - 1}`).join(', ')}]`);
    lines.push('nodes:', '  a:', '    kind: run', '    command: echo a');
    return lines.join('\n') + '\n';
  }

  it('refuses an alias bomb with exit 2 and the place of the first alias', async () => {
    const project = createProject({}, billionLaughs());
    for (const command of [['validate'], ['build']]) {
      const result = await project.spx(command);
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toContain('spx.yaml:3:');
      expect(result.stderr).toContain('aliases expand to too much data');
      expect(result.stderr).not.toContain('internal error');
    }
  }, 20_000);

  it('refuses an alias to no anchor with exit 2 and its place', async () => {
    const project = createProject({}, 'version: 1\nnodes:\n  a: *nowhere\n');
    const result = await project.spx(['validate']);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain('spx.yaml:3:6: error: alias *nowhere names no anchor');
  });

  it('refuses values nested deeper than a pipeline needs, block or flow, with exit 2 and a line', async () => {
    const flow = `version: 1\nvars:\n  x: ${'['.repeat(5000)}${']'.repeat(5000)}\nnodes: {}\n`;
    const block = `version: 1\nvars:\n${Array.from({ length: 100 }, (_, i) => `${'  '.repeat(i + 1)}k${i}:`).join('\n')} 1\nnodes: {}\n`;
    const shallow = `version: 1\nvars:\n  x: ${'['.repeat(70)}${']'.repeat(70)}\nnodes: {}\n`;
    for (const yaml of [flow, block, shallow]) {
      const project = createProject({}, yaml);
      const result = await project.spx(['validate']);
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toMatch(/spx\.yaml:\d+:\d+: error: values nested .*deep/);
      expect(result.stderr).not.toContain('internal error');
    }
  });
});

describe("outputs are never spx's or git's own files", () => {
  const forbidden: [string, string][] = [
    ['spx.lock', "is spx's record of the build (spx.lock)"],
    ['spx.yaml', 'is the pipeline file (spx.yaml)'],
    ['.spx/', "is spx's state directory"],
    ['.spx/cache/x', "is spx's own state (.spx/cache;"],
    ['.spx/stat-cache.json', "is spx's own state (.spx/stat-cache.json;"],
    ['.git/info/x', "is inside git's repository (.git/)"],
    ['.', 'is the project root itself'],
  ];

  it.each(forbidden)('refuses %s as an output with exit 2, at its line and column, before anything runs', async (output, why) => {
    const project = createProject(
      { 'spx.lock': '{"format":1,"nodes":{}}\n' },
      `version: 1\nnodes:\n  ok:\n    kind: run\n    command: echo ok >> runs.log\n  bad:\n    kind: run\n    command: echo bad >> runs.log\n    outputs: [fine.txt, '${output}']\n`,
    );
    for (const command of [['validate'], ['build']]) {
      const result = await project.spx(command);
      expect(result.code, result.stdout + result.stderr).toBe(2);
      expect(result.stderr).toContain(`spx.yaml:9:25: error: output `);
      expect(result.stderr).toContain(why);
    }
    expect(project.peekRuns()).toEqual([]);
  });

  it('refuses the output file of a prompt node inside .spx/prompts, where spx logs prompts', async () => {
    const project = createProject({}, 'version: 1\nnodes:\n  s:\n    kind: spec\n    provider: echo\n    prompt: x\n    output: .spx/prompts/s.md\n');
    const result = await project.spx(['validate']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('spx.yaml:7:13: error: output ".spx/prompts/s.md" of node "s" is spx\'s own state');
  });

  it('refuses a directory output that holds the pipeline file spx.yaml links to', async () => {
    const project = createProject({}, undefined);
    project.write('conf/spx.yaml', 'version: 1\nnodes:\n  gen:\n    kind: run\n    command: echo > conf/x\n    outputs: [conf/]\n');
    symlinkSync('conf/spx.yaml', project.path('spx.yaml'));
    const result = await project.spx(['build']);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain('spx.yaml:6:15: error: output "conf/" of node "gen" contains the pipeline file (conf/spx.yaml)');
    expect(project.read('conf/spx.yaml')).toContain('conf/');
  });

  it('still allows outputs in folders of .spx/ that hold no state', async () => {
    const project = createProject(
      {},
      'version: 1\nnodes:\n  gen:\n    kind: run\n    command: mkdir -p .spx/context .spx/execute && echo a > .spx/context/a.txt && echo b > .spx/execute/b.patch\n    outputs: [.spx/context/a.txt, .spx/execute/b.patch]\n',
    );
    const result = await project.spx(['build']);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(project.read('.spx/context/a.txt')).toBe('a\n');
  });
});

describe('outputs never lead spx through a symlink out of the project', () => {
  /** A directory outside the project, holding a file of someone else's; removed with the project. */
  function outsideDir(project: TestProject): string {
    const outside = `${project.dir}-outside`;
    mkdirSync(outside);
    writeFileSync(path.join(outside, 'theirs.txt'), 'not the build\'s\n');
    writeFileSync(path.join(outside, 'gen.txt'), 'theirs too\n');
    outsides.push(outside);
    return outside;
  }
  const outsides: string[] = [];
  afterEach(() => {
    for (const dir of outsides.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  const listing = (dir: string): Record<string, string> =>
    Object.fromEntries(readdirSync(dir).map((name) => [name, readFileSync(path.join(dir, name), 'utf8')]));

  it('fails a node whose output lies in a directory linked to outside, touching nothing there, every build', async () => {
    const project = createProject(
      {},
      'version: 1\nnodes:\n  gen:\n    kind: run\n    command: echo gen >> runs.log && mkdir -p out && echo gen > out/gen.txt\n    outputs: [out/gen.txt]\n  dir:\n    kind: run\n    command: echo dir >> runs.log && echo d > dist/d.txt\n    outputs: [dist/]\n',
    );
    const outside = outsideDir(project);
    symlinkSync(outside, project.path('out'));
    symlinkSync(outside, project.path('dist'));
    const before = listing(outside);
    for (let i = 0; i < 2; i++) {
      const result = await project.spx(['build', '-k']);
      expect(result.code, result.stdout + result.stderr).toBe(1);
      expect(result.stdout).toContain(`✗ gen: output out/gen.txt leads through the symlink out to ${outside}, outside the project`);
      expect(result.stdout).toContain(`✗ dir: output dist/ leads through the symlink dist to ${outside}, outside the project`);
      expect(result.stdout + result.stderr).not.toMatch(/ENOTDIR|internal error|\n\s+at /);
    }
    expect(project.peekRuns()).toEqual([]);
    expect(listing(outside)).toEqual(before);
    expect(project.exists('.spx/backups')).toBe(false);
  });

  it('spx clean leaves a directory output linked to outside alone, with one line and no stack trace', async () => {
    const project = createProject(
      { 'in.txt': 'in\n' },
      'version: 1\nnodes:\n  dir:\n    kind: run\n    command: mkdir -p out && cp in.txt out/in.txt\n    outputs: [out/]\n  other:\n    kind: run\n    command: echo o > other.txt\n    outputs: [other.txt]\n',
    );
    expect((await project.spx(['build'])).code).toBe(0);
    const outside = outsideDir(project);
    rmSync(project.path('out'), { recursive: true });
    symlinkSync(outside, project.path('out'));
    const before = listing(outside);

    const result = await project.spx(['clean']);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`spx: warning: left out/ (dir) alone: it leads through the symlink out to ${outside}, outside the project\n`);
    expect(result.stdout).toContain('removed other.txt (other)');
    expect(listing(outside)).toEqual(before);
    expect(lstatSync(project.path('out')).isSymbolicLink()).toBe(true);
    expect(project.exists('other.txt')).toBe(false);
  });

  it('backs up a hand-edited output that is a symlink as the bytes it showed, not as a link', async () => {
    const project = createProject(
      { 'in.txt': 'one\n', 'notes.txt': 'my notes\n' },
      'version: 1\nnodes:\n  gen:\n    kind: run\n    command: rm -f out.txt && cp in.txt out.txt\n    inputs: [in.txt]\n    outputs: [out.txt]\n',
    );
    expect((await project.spx(['build'])).code).toBe(0);
    rmSync(project.path('out.txt'));
    symlinkSync('notes.txt', project.path('out.txt'));
    project.write('in.txt', 'two\n');

    const result = await project.spx(['build']);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const backup = /saved a copy to (\S+)/.exec(result.stdout)?.[1];
    expect(backup, result.stdout).toMatch(/^\.spx\/backups\/gen\/[^/]+\/out\.txt$/);
    expect(lstatSync(project.path(backup!)).isFile()).toBe(true);
    expect(project.read(backup!)).toBe('my notes\n');
    expect(project.read('out.txt')).toBe('two\n');
  });
});

describe('a pipeline of thousands of nodes loads as a small one does', () => {
  /** Enough nodes to pass the size past which spx.yaml is parsed in parts, in every style a node is written. */
  function largePipeline(nodes: number, extra: (i: number) => string[] = () => []): string {
    const lines = ['# many nodes', 'version: 1', 'vars:', '  out: out', 'nodes:'];
    for (let i = 0; i < nodes; i++) {
      const name = i % 7 === 3 ? `"n-${i}"` : `n${i}`;
      lines.push(`  ${name}: # node ${i}`, '    kind: run');
      if (i % 3 === 0) lines.push('    command: |', `      echo ${i} \\`, `        > \${vars.out}/${i}.txt`, '', '      # not a key: 5');
      else lines.push(`    command: 'echo "${i}: done" > \${vars.out}/${i}.txt'`);
      lines.push(`    outputs: [`, `      '\${vars.out}/${i}.txt']`);
      if (i > 0) lines.push(`    needs: [${i - 1 === 3 || (i - 1) % 7 === 3 ? `n-${i - 1}` : `n${i - 1}`}]`);
      lines.push(...extra(i));
    }
    lines.push('# after the nodes', 'cache:', '  remote:', '    team: t', '    timeout: 5');
    return lines.join('\n') + '\n';
  }

  it('reads every node, variable and later section of a large file exactly as yaml does', async () => {
    const { parseDocument } = await import('yaml');
    const { parseYaml } = await import('../src/config/parse-yaml.js');
    const { parseInParts } = await import('../src/config/parse-in-parts.js');
    const text = largePipeline(3000);
    expect(parseInParts(text, () => true)).toBeDefined();
    expect(parseYaml(text, 'spx.yaml').data).toEqual(parseDocument(text).toJS());

    // An alias to an anchor in another part: read whole, with the same result.
    const aliased = text.replace('  out: out', '  out: &out out').replace('n2998: # node 2998\n    kind: run\n', 'n2998: # node 2998\n    kind: run\n    description: *out\n');
    expect(aliased).toContain('description: *out');
    expect(parseYaml(aliased, 'spx.yaml').data).toEqual(parseDocument(aliased).toJS());
  });

  it('locates errors deep in a large file, a repeated node name included', async () => {
    const project = createProject({}, largePipeline(3000, (i) => (i === 2500 ? ['    colour: red'] : [])));
    const text = project.read('spx.yaml').split('\n');
    const colour = text.indexOf('    colour: red') + 1;
    const result = await project.spx(['validate']);
    expect(result.code, result.stdout + result.stderr).toBe(2);
    expect(result.stderr).toContain(`spx.yaml:${colour}:5: error: unknown key "colour" in node "n2500"`);

    project.writeConfig(largePipeline(3000, (i) => (i === 2900 ? ['  n12:', '    kind: run', '    command: x'] : [])));
    const again = project.read('spx.yaml').split('\n');
    const repeated = again.lastIndexOf('  n12:') + 1;
    const duplicate = await project.spx(['validate']);
    expect(duplicate.code).toBe(2);
    expect(duplicate.stderr).toContain(`spx.yaml:${repeated}:3: error: duplicate key "n12"`);
  });
});
