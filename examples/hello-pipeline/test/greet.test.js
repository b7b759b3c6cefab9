import assert from 'node:assert/strict';
import { test } from 'node:test';
import { greet, greetAll } from '../src/greet.js';

test('greets in English by default', () => {
  assert.equal(greet('Ada'), 'Hello, Ada!');
});

test('greets in the language asked for', () => {
  assert.equal(greet('Ada', 'fr'), 'Bonjour, Ada!');
});

test('greets nobody in particular when the name is blank', () => {
  assert.equal(greet('  '), 'Hello!');
  assert.equal(greet(undefined, 'es'), 'Hola!');
});

test('refuses an unknown language, naming the known ones', () => {
  assert.throws(() => greet('Ada', 'xx'), /unknown language "xx"; known: de, en, es, fr, it/);
});

test('greets several people, one line each', () => {
  assert.equal(greetAll(['Ada', 'Alan'], 'de'), 'Hallo, Ada!\nHallo, Alan!');
});
