import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseArgs, report } from '../src/report.js';

test('prints every count when no option names one', () => {
  assert.deepEqual(parseArgs(['a.txt']), { fields: ['lines', 'words'], files: ['a.txt'] });
});

test('prints only the counts asked for, in their usual order', () => {
  assert.deepEqual(parseArgs(['--words', 'a.txt', '--lines']), { fields: ['lines', 'words'], files: ['a.txt'] });
  assert.deepEqual(parseArgs(['--words']), { fields: ['words'], files: [] });
});

test('refuses an unknown option, naming the known ones', () => {
  assert.throws(() => parseArgs(['--bytes']), /unknown option "--bytes"; known: --lines, --words/);
});

test('writes one right-aligned line per input, and a total after several', () => {
  const inputs = [
    { name: 'a.txt', text: 'one two\nthree\n' },
    { name: 'b.txt', text: 'four\n' },
  ];
  assert.equal(report(inputs, ['lines', 'words']), '      2       3 a.txt\n      1       1 b.txt\n      3       4 total\n');
});

test('names no file for standard input', () => {
  assert.equal(report([{ text: 'one two' }], ['words']), '      2\n');
});
