import { expect, it } from 'vitest';
import { canonicalJson } from '../src/util/hash.js';

it('writes keys sorted at every level, compact for hashing, as the fingerprints of existing spx.lock files expect', () => {
  const value = { b: 1, a: [1, { d: 'x', c: undefined }, undefined], '10': true, '9': null };
  expect(canonicalJson(value)).toBe('{"10":true,"9":null,"a":[1,{"d":"x"},null],"b":1}');
  expect(canonicalJson({ b: { y: 1, x: 2 }, a: {} })).toBe(canonicalJson({ a: {}, b: { x: 2, y: 1 } }));
});

it('indented, is JSON.stringify(…, null, 2) of the same value with its keys sorted (spx.lock)', () => {
  const lock = { nodes: { gen: { kind: 'run', inputs: {}, fingerprint: 'f' }, a: { metrics: { tokens: 3, model: 'm' } } }, format: 1 };
  const sorted = { format: 1, nodes: { a: { metrics: { model: 'm', tokens: 3 } }, gen: { fingerprint: 'f', inputs: {}, kind: 'run' } } };
  expect(canonicalJson(lock, 2)).toBe(JSON.stringify(sorted, null, 2));
  expect(canonicalJson([[], [1, [2]], {}], 2)).toBe(JSON.stringify([[], [1, [2]], {}], null, 2));
});
