import assert from 'node:assert/strict';
import { test } from 'node:test';
import { count, countLines, countWords } from '../src/count.js';

test('counts the lines, the last one with or without a line feed', () => {
  assert.equal(countLines(''), 0);
  assert.equal(countLines('one'), 1);
  assert.equal(countLines('one\n'), 1);
  assert.equal(countLines('one\ntwo'), 2);
  assert.equal(countLines('\n\n'), 2);
});

test('counts the words, whatever white space separates them', () => {
  assert.equal(countWords(''), 0);
  assert.equal(countWords('   '), 0);
  assert.equal(countWords('to be  or\tnot\nto be'), 6);
  assert.equal(countWords(' leading and trailing '), 3);
});

test('gives every count at once', () => {
  assert.deepEqual(count('the quick brown fox\njumps over\n'), { lines: 2, words: 6 });
});
