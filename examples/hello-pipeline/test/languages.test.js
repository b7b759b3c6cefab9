import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GREETINGS, languages } from '../src/languages.js';

test('lists every language code, sorted', () => {
  assert.deepEqual(languages(), ['de', 'en', 'es', 'fr', 'it']);
});

test('has a greeting word for every language it lists', () => {
  for (const code of languages()) assert.ok(GREETINGS[code].length > 0, code);
});
