import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadPipeline } from '../src/config/load.js';
import { NODE_KINDS } from '../src/config/types.js';
import { UserErrors, type UserError } from '../src/util/errors.js';
import { readSealed, writeSealed } from './helpers/sealed.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'spx-config-'));
  dirs.push(dir);
  return dir;
}

/** A project whose spx.yaml is these lines; returns the file's path. */
async function pipeline(...lines: string[]): Promise<string> {
  const file = path.join(await tempDir(), 'spx.yaml');
  await writeFile(file, lines.join('\n') + '\n');
  return file;
}

async function loadErrors(file: string): Promise<UserError[]> {
  try {
    await loadPipeline(file);
  } catch (error) {
    expect(error).toBeInstanceOf(UserErrors);
    return (error as UserErrors).errors;
  }
  throw new Error('expected the pipeline to be rejected');
}

/** The single error the file produces, checked for place and key words. */
async function expectOneError(file: string, line: number, column: number, ...words: string[]): Promise<UserError> {
  const errors = await loadErrors(file);
  expect(errors.map((e) => e.format())).toHaveLength(1);
  const error = errors[0]!;
  expect(error.location).toEqual({ file, line, column });
  for (const word of words) expect(error.message).toContain(word);
  return error;
}

const HEAD = ['version: 1', 'nodes:'];

describe('pipeline errors name the place and what was expected', () => {
  it('reports a YAML syntax error', async () => {
    const file = await pipeline(...HEAD, '  a:', '    kind: run', '    command: echo a: b');
    await expectOneError(file, 5, 14, 'invalid YAML', 'Nested mappings', 'quote a value');
  });

  it('suggests quoting ${vars.NAME} inside a flow list', async () => {
    const file = await pipeline(...HEAD, '  a:', '    kind: run', '    command: x', '    outputs: [${vars.out}/]');
    const errors = await loadErrors(file);
    expect(errors[0]!.location).toEqual({ file, line: 6, column: 16 });
    expect(errors[0]!.message).toContain('quote values that contain ${vars.NAME}');
  });

  it('reports a duplicate key', async () => {
    const file = await pipeline(...HEAD, '  a:', '    kind: run', '    command: x', '    command: y');
    await expectOneError(file, 6, 5, 'duplicate key "command"');
  });

  it('reports an unknown top-level key', async () => {
    const file = await pipeline('version: 1', 'defualts: {}', 'nodes: {}');
    await expectOneError(file, 2, 1, 'unknown key "defualts" at the top level', 'did you mean "defaults"', 'version, extends, vars, defaults, providers, nodes');
  });

  it('reports an unknown node key, naming the node and the keys it takes', async () => {
    const file = await pipeline(...HEAD, '  build:', '    kind: run', '    command: make', '    comand: make');
    await expectOneError(file, 6, 5, 'unknown key "comand" in node "build"', 'did you mean "command"', 'expected one of: kind, description, command, inputs');
  });

  it('reports a string where a list is expected', async () => {
    const file = await pipeline(...HEAD, '  build:', '    kind: run', '    command: make', '    inputs: src/a.c');
    await expectOneError(file, 6, 13, 'nodes.build.inputs must be an array of strings', 'not the string "src/a.c"');
  });

  it('reports a list entry of the wrong type', async () => {
    const file = await pipeline(...HEAD, '  build:', '    kind: run', '    command: make', '    needs: [a, {b: 1}]');
    await expectOneError(file, 6, 16, 'nodes.build.needs[1] must be a string');
  });

  it('reports a missing command at the node', async () => {
    const file = await pipeline(...HEAD, '  build:', '    kind: run', '    inputs: [a]');
    await expectOneError(file, 3, 3, 'node "build" is missing required key "command"');
  });

  it('reports a missing version', async () => {
    const file = await pipeline('nodes: {}');
    await expectOneError(file, 1, 1, 'missing required key "version"');
  });

  it('reports a wrong version', async () => {
    const file = await pipeline('version: 2', 'nodes: {}');
    await expectOneError(file, 1, 10, 'version must be 1');
  });

  it('reports an unknown kind with the kinds there are, and nothing else about the node', async () => {
    const file = await pipeline(...HEAD, '  build:', '    kind: rn', '    command: make');
    await expectOneError(file, 4, 11, 'nodes.build.kind must be one of: run', 'got "rn"', 'did you mean "run"');
  });

  it('reports a node name that is not an identifier', async () => {
    const file = await pipeline(...HEAD, '  ok:', '    kind: run', '    command: x', '  9lives:', '    kind: run', '    command: x');
    await expectOneError(file, 6, 3, 'invalid node name "9lives"', 'identifier');
  });

  it('reports an environment variable name that is not one', async () => {
    const file = await pipeline(...HEAD, '  a:', '    kind: run', '    command: x', '    env: [HOME, 1PATH]');
    await expectOneError(file, 6, 17, 'nodes.a.env[1] must be an environment variable name');
  });

  it('reports an unknown node in needs, suggesting a close name', async () => {
    const file = await pipeline(...HEAD, '  build:', '    kind: run', '    command: make', '  test:', '    kind: run', '    command: make test', '    needs: [biuld]');
    await expectOneError(file, 9, 13, 'unknown node "biuld" in needs of node "test"', 'did you mean "build"');
  });

  it('reports an unknown node in uses', async () => {
    const file = await pipeline(...HEAD, '  test:', '    kind: run', '    command: make test', '    uses:', '      - context');
    const error = await expectOneError(file, 7, 9, 'unknown node "context" in uses of node "test"');
    expect(error.message).not.toContain('did you mean');
  });

  it('reports a node that needs itself', async () => {
    const file = await pipeline(...HEAD, '  a:', '    kind: run', '    command: x', '    needs: [a]');
    await expectOneError(file, 6, 13, 'node "a" needs itself');
  });

  it('reports a node that uses itself', async () => {
    const file = await pipeline(...HEAD, '  a:', '    kind: run', '    command: x', '    uses: [a]');
    await expectOneError(file, 6, 12, 'node "a" uses itself');
  });

  it('reports a cycle through needs and uses, from the first node declared, at the edge that closes it', async () => {
    const file = await pipeline(
      ...HEAD,
      '  a:', '    kind: run', '    command: x', '    needs: [b]',
      '  b:', '    kind: run', '    command: x', '    uses: [c]',
      '  c:', '    kind: run', '    command: x', '    needs: [a]',
    );
    await expectOneError(file, 14, 13, 'cycle: a -> b -> c -> a');
  });

  it('reports two nodes declaring the same output', async () => {
    const file = await pipeline(
      ...HEAD,
      '  a:', '    kind: run', '    command: x', '    outputs: [out/report.txt]',
      '  b:', '    kind: run', '    command: x', '    outputs: [./out/report.txt]',
    );
    await expectOneError(file, 10, 15, 'output "out/report.txt" of node "b" is also declared as output "out/report.txt" of node "a"');
  });

  it('reports an output inside another node\'s directory output', async () => {
    const file = await pipeline(
      ...HEAD,
      '  a:', '    kind: run', '    command: x', '    outputs: [dist/]',
      '  b:', '    kind: run', '    command: x', '    outputs:', '      - dist/b.js',
    );
    await expectOneError(file, 11, 9, 'output "dist/b.js" of node "b" lies inside directory output "dist/" of node "a"');
  });

  it('reports a directory output containing an earlier node\'s output', async () => {
    const file = await pipeline(
      ...HEAD,
      '  a:', '    kind: run', '    command: x', '    outputs: [dist/a.js]',
      '  b:', '    kind: run', '    command: x', '    outputs: [dist]',
    );
    await expectOneError(file, 10, 15, 'output "dist" of node "b" contains output "dist/a.js" of node "a"');
  });

  it('reports an output outside the project', async () => {
    const file = await pipeline(...HEAD, '  a:', '    kind: run', '    command: x', '    outputs: [ok.txt, ../x.txt]');
    await expectOneError(file, 6, 23, 'output "../x.txt" of node "a" lies outside the project');
  });

  it('reports an absolute output outside the project', async () => {
    const file = await pipeline(...HEAD, '  a:', '    kind: run', '    command: x', '    outputs:', '      - /etc/passwd');
    await expectOneError(file, 7, 9, 'output "/etc/passwd" of node "a" lies outside the project');
  });

  it('reports the project root as an output', async () => {
    const file = await pipeline(...HEAD, '  a:', '    kind: run', '    command: x', '    outputs: [./]');
    await expectOneError(file, 6, 15, 'output of node "a" is the project root itself');
  });

  it('reports a node listed in both needs and uses', async () => {
    const file = await pipeline(
      ...HEAD,
      '  a:', '    kind: run', '    command: x',
      '  b:', '    kind: run', '    command: x', '    needs: [a]', '    uses: [a]',
    );
    await expectOneError(file, 10, 12, 'node "b" lists "a" in both needs and uses');
  });

  it('reports an unknown variable at the string that uses it', async () => {
    const file = await pipeline(
      'version: 1', 'vars:', '  out: build', 'nodes:',
      '  a:', '    kind: run', '    command: make', '    outputs: ["${vars.out}/a", "${vars.ot}/b"]',
    );
    await expectOneError(file, 8, 32, 'unknown variable "${vars.ot}" in nodes.a.outputs[1]', 'defined: out', 'did you mean "${vars.out}"');
  });

  it('reports an empty command', async () => {
    const file = await pipeline(...HEAD, '  a:', '    kind: run', '    command: "  "');
    await expectOneError(file, 5, 14, 'node "a" has an empty command');
  });

  it('reports a missing pipeline file, suggesting spx init and -f', async () => {
    const file = path.join(await tempDir(), 'spx.yaml');
    const errors = await loadErrors(file);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toContain(file);
    expect(errors[0]!.message).toContain('spx init');
    expect(errors[0]!.message).toContain('-f');
  });

  it('reports every problem at once, in file order', async () => {
    const file = await pipeline(
      ...HEAD,
      '  a:', '    kind: run', '    command: x', '    needs: [nope]',
      '  b:', '    kind: run', '    command: x', '    outputs: [../up]',
    );
    const errors = await loadErrors(file);
    expect(errors.map((e) => [e.location?.line, e.location?.column])).toEqual([[6, 13], [10, 15]]);
    expect(new UserErrors(errors).format(path.dirname(file))).toBe(
      [
        'spx.yaml:6:13: error: unknown node "nope" in needs of node "a"',
        'spx.yaml:10:15: error: output "../up" of node "b" lies outside the project; outputs must be inside it',
      ].join('\n'),
    );
  });
});

const VALID = [
  '# The project pipeline.',
  'version: 1',
  'vars:',
  '  out: build',
  '  level: 2',
  'defaults:',
  '  env: [CI]',
  'nodes:',
  '  compile:',
  '    kind: run',
  '    description: Compile the sources',
  '    command: make -O${vars.level} OUT=${vars.out}',
  '    inputs: [./src/**/*.c, "src//main.h"]',
  '    outputs: ["./${vars.out}/", "${vars.out}-log.txt"]',
  '    env: [CC, CI]',
  '  test:',
  '    kind: run',
  '    command: make test',
  '    needs: [compile]',
];

describe('loading a valid pipeline', () => {
  it('applies defaults, substitutes vars and normalises paths', async () => {
    const file = await pipeline(...VALID);
    const root = path.dirname(file);
    const absolute = await pipeline(
      ...HEAD, '  a:', '    kind: run', '    command: x', `    inputs: [${root}/src/a.c]`, `    outputs: ["${root}/gen/"]`,
    );
    const loaded = await loadPipeline(file);
    expect(loaded.file).toBe(file);
    expect(loaded.root).toBe(root);
    expect(loaded.config).toEqual({
      version: 1,
      vars: { out: 'build', level: '2' },
      providers: {},
      cache: {},
      nodes: {
        compile: {
          kind: 'run',
          description: 'Compile the sources',
          command: 'make -O2 OUT=build',
          inputs: ['src/**/*.c', 'src/main.h'],
          outputs: ['build/', 'build-log.txt'],
          needs: [],
          uses: [],
          env: ['CI', 'CC'],
          envByValue: [],
        },
        test: { kind: 'run', command: 'make test', inputs: [], outputs: [], needs: ['compile'], uses: [], env: ['CI'], envByValue: [] },
      },
    });
    expect(Object.keys(loaded.config.nodes)).toEqual(['compile', 'test']);

    const withAbsolutePaths = await loadPipeline(absolute, { root });
    expect(withAbsolutePaths.config.nodes['a']).toMatchObject({ inputs: ['src/a.c'], outputs: ['gen/'] });
  });

  it('loads the same config from a reformatted, commented file', async () => {
    const original = await loadPipeline(await pipeline(...VALID));
    const reformatted = await pipeline(
      'version: 1   # format',
      'nodes:',
      '  compile: {kind: run, description: "Compile the sources", command: "make -O${vars.level} OUT=${vars.out}",',
      '    inputs: [src/**/*.c, ./src/main.h], outputs: [build/, build-log.txt],',
      '    env: [CC]}',
      '  # tests run after the build',
      '  test:',
      '    kind: "run"',
      '    command: >-',
      '      make test',
      '    needs:',
      '      - compile',
      'defaults: {env: [CI]}',
      'vars: {level: "2", out: build}',
    );
    expect((await loadPipeline(reformatted)).config).toEqual(original.config);
  });

  it('serves a second load of the same text from the config cache', async () => {
    const file = await pipeline(...VALID);
    const cacheFile = path.join(path.dirname(file), '.spx', 'config-cache.json');
    await loadPipeline(file);
    const entry = readSealed(cacheFile);
    entry.config.nodes.test.command = 'served from the cache';
    writeSealed(cacheFile, entry);

    const loaded = await loadPipeline(file);
    expect(loaded.config.nodes['test']).toMatchObject({ command: 'served from the cache' });
  });

  it('misses the config cache when the text or the root changes', async () => {
    const file = await pipeline(...VALID);
    const cacheFile = path.join(path.dirname(file), '.spx', 'config-cache.json');
    await loadPipeline(file);
    const entry = readSealed(cacheFile);
    entry.config.nodes.test.command = 'served from the cache';
    writeSealed(cacheFile, entry);

    const otherRoot = await tempDir();
    const fromOtherRoot = await loadPipeline(file, { root: otherRoot, stateDir: path.dirname(cacheFile) });
    expect(fromOtherRoot.config.nodes['test']).toMatchObject({ command: 'make test' });

    await writeFile(file, [...VALID, '    env: [HOME]'].join('\n'));
    const changed = await loadPipeline(file);
    expect(changed.config.nodes['test']).toMatchObject({ command: 'make test', env: ['CI', 'HOME'] });
  });

  it('imports neither yaml nor ajv on a cache hit', async () => {
    const file = await pipeline(...VALID);
    await loadPipeline(file);
    const imported: string[] = [];
    vi.resetModules();
    for (const name of ['yaml', 'ajv']) {
      vi.doMock(name, async (importOriginal) => {
        imported.push(name);
        // ajv is CommonJS: its module is the Ajv function, and a mock must return an object.
        const original = await importOriginal<Record<string, unknown>>();
        return { ...original, default: original['default'] ?? original };
      });
    }
    try {
      const fresh = await import('../src/config/load.js');
      await expect(fresh.loadPipeline(file)).resolves.toMatchObject({ config: { version: 1 } });
      expect(imported).toEqual([]);
      // The same module does import them on a miss: the spies are in effect.
      await writeFile(file, [...VALID, '    env: [HOME]'].join('\n'));
      await fresh.loadPipeline(file);
      expect(imported.sort()).toEqual(['ajv', 'yaml']);
    } finally {
      vi.doUnmock('yaml');
      vi.doUnmock('ajv');
      vi.resetModules();
    }
  });

  it('does not cache a rejected pipeline', async () => {
    const file = await pipeline(...HEAD, '  a:', '    kind: run', '    command: x', '    needs: [a]');
    await loadErrors(file);
    await loadErrors(file);
    await expect(readFile(path.join(path.dirname(file), '.spx', 'config-cache.json'))).rejects.toThrow(/ENOENT/);
  });

  it('loads when the state directory cannot be written', async () => {
    const file = await pipeline(...VALID);
    const blocked = path.join(path.dirname(file), 'not-a-dir');
    await writeFile(blocked, '');
    const loaded = await loadPipeline(file, { stateDir: path.join(blocked, 'state') });
    expect(loaded.config.nodes['test']).toMatchObject({ command: 'make test' });
  });

  it('reads the state directory from options', async () => {
    const file = await pipeline(...VALID);
    const stateDir = path.join(await tempDir(), 'state');
    await mkdir(stateDir);
    await loadPipeline(file, { stateDir });
    await expect(readFile(path.join(stateDir, 'config-cache.json'), 'utf8')).resolves.toContain('make test');
  });
});

describe('the shipped JSON schema', () => {
  const schemaFile = new URL('../schema/spx.schema.json', import.meta.url);

  it('describes every property, for editors', async () => {
    const schema: unknown = JSON.parse(await readFile(schemaFile, 'utf8'));
    const undescribed: string[] = [];
    const visit = (value: unknown, where: string): void => {
      if (value === null || typeof value !== 'object') return;
      const record = value as Record<string, unknown>;
      for (const [name, property] of Object.entries((record['properties'] as object | undefined) ?? {})) {
        if (!(property as Record<string, unknown>)['description']) undescribed.push(`${where}.${name}`);
      }
      for (const [key, child] of Object.entries(record)) visit(child, `${where}.${key}`);
    };
    visit(schema, '#');
    // `if` clauses only test a value; they describe nothing an editor shows.
    expect(undescribed.filter((where) => !where.includes('.if.'))).toEqual([]);
  });

  it('admits exactly the node kinds the loader knows', async () => {
    const schema = JSON.parse(await readFile(schemaFile, 'utf8'));
    expect(schema.definitions.node.properties.kind.enum).toEqual([...NODE_KINDS]);
  });
});
