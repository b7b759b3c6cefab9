import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { describe, expect, it } from 'vitest';
import { parseInParts } from '../src/config/parse-in-parts.js';
import { readPlainYaml } from '../src/config/read-plain-yaml.js';

/** What yaml makes of a text, or undefined when it finds an error or a warning in it. */
function yamlData(text: string): unknown {
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0 || doc.warnings.length > 0) return undefined;
  return doc.toJS({ maxAliasCount: 100 });
}

/** Texts the plain reader reads, each as yaml does. */
const READ = {
  pipeline: 'version: 1\nnodes:\n  a:\n    kind: run\n    command: echo hi # a comment\n    outputs: [out.txt]\n',
  'plain scalars of every type': 'a: 1\nb: -2\nc: 0.5\nd: 1e3\ne: true\nf: False\ng: ~\nh: null\ni:\nj: 007\nk: +3\nl: .5\nm: 5.\nn: 1_000\no: yes\np: no\nq: on\nr: -0\ns: 2E-2\n',
  'quoted scalars and keys': 'a: "x \\"y\\" \\\\ \\n \\t \\/"\nb: \'it\'\'s # not a comment\'\nc: "# not"\n"d e": 1\n\'f\': 2 # comment\ng: ""\n',
  'flow lists': 'a: [x, "y", \'z\', 1, true, ~, 0.5]\nb: []\nc: {}\nd: [ a , b ]\ne: [ ]\nf: ["${vars.out}/x", a b]\n',
  'block lists, also lined up with their key': 'a:\n- x\n- y\nb:\n  - 1\n  -\n  - z: 1\n    w: [2]\n  - k: |\n      text\n  - ""\nc: 3\n',
  'literal blocks': 'a: |\n  line 1\n\n    deeper\n  # not a comment\nb: |-\n  x\n  y\n\n\nc: 1\nd: | # comment\n  z\n',
  'literal block at the end of the file': 'a: |\n  x\n\n',
  'names from Object.prototype': '__proto__: 1\nconstructor: 2\ntoString: 3\n',
  'keys of many characters': 'a.b/c$d-e_1: x\n1st: y\n',
  'values with colons, hashes and braces': 'a: http://x/y#frag\nb: a:b\nc: echo ${vars.out}/x > y\nd: a  b\ne: x, y\nf: "a: b"\n',
  comments: '# top\na:  # after a key\n  # inside\n  b: 1\n# between\nc: 2\n',
  'an indented root': '  a: 1\n  b: 2\n',
  'no final newline': 'a: 1',
  'nested mappings back out several levels': 'a:\n  b:\n    c:\n      d: 1\ne: 2\n',
  'an empty value before a deeper comment': 'a:\n    # c\nb: 1\n',
};

/** Texts the plain reader leaves to yaml: each valid or not, none of them read. */
const LEFT_TO_YAML = {
  'a folded block': 'a: >\n  folded\n',
  'anchors and aliases': 'a: &x 1\nb: *x\n',
  tags: 'a: !!str 1\n',
  'a plain scalar on two lines': 'a: b\n  continued\n',
  'a quoted scalar on two lines': 'a: "multi\n  line"\n',
  'a flow list on two lines': 'a: [x,\n  y]\n',
  'a repeated key': 'a: 1\na: 2\n',
  'a tab': 'a:\n\tb: 1\n',
  'carriage returns': 'a: 1\r\nb: 2\r\n',
  'a document marker': '---\na: 1\n',
  'a directive': '%YAML 1.1\n---\na: yes\n',
  hexadecimal: 'a: 0x1f\n',
  infinity: 'a: .inf\n',
  'a number as key': '1: x\n',
  'a boolean as key': 'true: x\n',
  'a complex key': '? a\n: b\n',
  'a nested compact mapping': 'a: b: c\n',
  'a list at the root': '- a\n- b\n',
  'an empty flow item': 'a: [x, , y]\n',
  'a trailing comma': 'a: [x,]\n',
  'a flow mapping': 'a: {b: 1}\n',
  'a kept literal block': 'a: |+\n  x\n',
  'an indentation indicator': 'a: |2\n  x\n',
  'a literal block without a final newline': 'a: |\n  x',
  'a literal block starting blank': 'a: |\n\n  x\n',
  'a comment deeper than its value': 'a: x\n   # deeper\n',
  'an escape yaml has more of': 'a: "\\x41"\n',
  'a list as a value on its line': 'a: - b\n',
  'a lone dash': 'a: -\n',
  'a list in a list on one line': 'a:\n  - - b\n',
  'a deeper line after a value': 'a: x\n  b: y\n',
  'a key out of line': 'a:\n  b: 1\n c: 2\n',
  'a byte-order mark': '\ufeffa: 1\n',
  'a no-break space, which YAML keeps and JavaScript trims': 'a: x\u00a0\n',
  'an ideographic space before a key': '\u3000a: 1\n',
  'an empty file': '# nothing\n',
  'a space before the colon': 'a : 1\n',
  'a flow list below the deepest level': Array.from({ length: 64 }, (_, i) => `${' '.repeat(i * 2)}k${i}:`).join('\n') + ' [x]\n',
  'nesting deeper than any pipeline': Array.from({ length: 70 }, (_, i) => `${' '.repeat(i * 2)}k${i}:`).join('\n') + ' 1\n',
};

describe('the plain YAML reader', () => {
  it.each(Object.entries(READ))('reads %s as yaml does', (_name, text) => {
    const expected = yamlData(text);
    expect(expected).toBeDefined();
    expect(readPlainYaml(text)).toStrictEqual(expected);
  });

  it.each(Object.entries(LEFT_TO_YAML))('leaves %s to yaml', (_name, text) => {
    expect(readPlainYaml(text)).toBeUndefined();
  });

  /** A pipeline of `nodes` run nodes, `extra(i)` lines added to node i. */
  function generated(nodes: number, extra: (i: number) => string[] = () => []): string {
    const lines = ['version: 1', 'vars:', '  out: out', 'nodes:'];
    for (let i = 0; i < nodes; i++) {
      lines.push(`  n${i}:`, '    kind: run', `    command: echo ${i} > \${vars.out}/n${i}.txt`, `    inputs: [src/f${i % 100}.txt]`, `    outputs: ['\${vars.out}/n${i}.txt']`);
      if (i > 0) lines.push(`    needs: [n${i - 1}]`);
      lines.push(...extra(i));
    }
    return lines.join('\n') + '\n';
  }

  it('reads a generated pipeline of 2,000 nodes as yaml does', () => {
    const text = generated(2000);
    expect(readPlainYaml(text)).toStrictEqual(yamlData(text));
  });

  it('reads a large file in parts, as yaml does, when one node is written in YAML it leaves to yaml', () => {
    const text = generated(3000, (i) => (i === 1234 ? ['    description: >-', '      folded', '      text'] : []));
    expect(readPlainYaml(text)).toBeUndefined();
    const expected = yamlData(text) as { nodes: Record<string, { description?: string }> };
    expect(expected.nodes['n1234']!.description).toBe('folded text');
    expect(parseInParts(text, () => true)?.data).toStrictEqual(expected);
  });

  it('reads every pipeline spx ships, and its examples, as yaml does, or leaves them to it', () => {
    const root = path.resolve(import.meta.dirname, '..');
    const files = [
      ...readdirSync(path.join(root, 'pipelines')).filter((f) => f.endsWith('.yaml')).map((f) => path.join(root, 'pipelines', f)),
      ...readdirSync(path.join(root, 'examples')).map((d) => path.join(root, 'examples', d, 'spx.yaml')),
    ];
    let read = 0;
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      const plain = readPlainYaml(text);
      if (plain === undefined) continue;
      read++;
      expect(plain, file).toStrictEqual(yamlData(text));
    }
    expect(read).toBeGreaterThan(0);
  });

  it('never reads a text yaml would read otherwise or refuse: thousands of mutations of the texts above', () => {
    // A fixed seed: a failure names a text that fails again.
    let seed = 16;
    const random = (below: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % below;
    };
    const pieces = [' ', '  ', ':', ': ', '#', ' #', '-', '- ', "'", '"', '[', ']', ',', '{', '}', '|', '|-', '\n', '\n  ', '\\', '~', '1', '.', 'x', 'true', '?', '&a', '*a', '!', '%', '@', '`', '<<', '0x1', '.inf', "''", '>', '|+', '\n- ', '\n\n', '   ', '-1', '-x', '\u00a0', '\u3000'];
    const texts = Object.values(READ);
    let checked = 0;
    for (let round = 0; round < 4000; round++) {
      let text = texts[random(texts.length)]!;
      for (let edits = 1 + random(3); edits > 0; edits--) {
        const at = random(text.length + 1);
        const cut = random(3);
        text = text.slice(0, at) + pieces[random(pieces.length)]! + text.slice(at + cut);
      }
      const plain = readPlainYaml(text);
      if (plain === undefined) continue;
      checked++;
      expect(plain, JSON.stringify(text)).toStrictEqual(yamlData(text));
    }
    expect(checked).toBeGreaterThan(500);
  });
});
