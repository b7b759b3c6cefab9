import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../src/cli.js', import.meta.url));
const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));

function wordCount(args, input = '') {
  return spawnSync(process.execPath, [CLI, ...args], { cwd: FIXTURES, input, encoding: 'utf8' });
}

test('counts standard input', () => {
  const result = wordCount([], 'hello world\n');
  assert.equal(result.status, 0);
  assert.equal(result.stdout, '      1       2\n');
});

test('counts files, with a total', () => {
  const result = wordCount(['--lines', 'poem.txt', 'poem.txt']);
  assert.equal(result.status, 0, result.stderr);
  assert.equal(result.stdout, '      4 poem.txt\n      4 poem.txt\n      8 total\n');
});

test('exits 2 with a message for a missing file or an unknown option', () => {
  assert.deepEqual(pick(wordCount(['missing.txt'])), { status: 2, stderr: 'word-count: no such file: missing.txt\n' });
  assert.equal(wordCount(['--bytes']).status, 2);
});

function pick({ status, stderr }) {
  return { status, stderr };
}
