import { describe, expect, it } from 'vitest';
import { explainStaleness } from '../src/fingerprint/explain.js';
import type { FingerprintParts } from '../src/fingerprint/fingerprint.js';
import { describeFailure, describeSkipReason, describeStaleReason } from '../src/render/describe.js';
import type { LockEntry } from '../src/state/lockfile.js';
import type { ContentHash, Fingerprint } from '../src/util/hash.js';

const hash = (text: string): ContentHash => text as ContentHash;

function parts(overrides: Partial<FingerprintParts> = {}): FingerprintParts {
  return { kind: 'run', settings: { command: hash('c1') }, inputs: {}, needs: {}, env: {}, ...overrides };
}

function entry(recorded: FingerprintParts): LockEntry {
  return { fingerprint: 'f' as Fingerprint, ...recorded, outputs: {} } as LockEntry;
}

describe('why a node is stale, as data and in words', () => {
  it('words each reason as spx always has', () => {
    const before = parts({ inputs: { 'a.txt': hash('1'), 'gone.txt': hash('1') }, needs: { old: hash('1'), up: hash('1') }, env: { MODE: hash('1') } });
    const after = parts({
      kind: 'plan',
      settings: { command: hash('c2') },
      inputs: { 'a.txt': hash('2'), 'new.txt': hash('1') },
      needs: { up: hash('2'), fresh: hash('1') },
      env: {},
    });
    const reasons = explainStaleness(entry(before), after, [{ path: 'out.txt', problem: 'missing' }]);
    expect(reasons.map(describeStaleReason)).toEqual([
      'kind changed from run to plan',
      'setting "command" changed',
      'input changed: a.txt',
      'input added: new.txt',
      'input removed: gone.txt',
      'now needs "fresh"',
      'no longer needs "old"',
      'output of "up" changed',
      'environment variable MODE changed',
      'output out.txt missing',
    ]);
  });

  it('lists five files of a kind, then counts the rest', () => {
    const inputs = Object.fromEntries(Array.from({ length: 7 }, (_, i) => [`f${i}.txt`, hash('1')]));
    const reasons = explainStaleness(entry(parts()), parts({ inputs }), []);
    expect(reasons.at(-1)).toEqual({ reason: 'more-inputs', change: 'added', count: 2 });
    expect(reasons.map(describeStaleReason).slice(4)).toEqual(['input added: f4.txt', 'input added: … and 2 more']);
  });

  it('words the reasons the scheduler adds', () => {
    expect(explainStaleness(undefined, parts(), []).map(describeStaleReason)).toEqual(['never built']);
    // Equal parts reuse the recorded fingerprint (evaluate.ts): such a node is fresh, and has no reason.
    expect(explainStaleness(entry(parts()), parts(), [])).toEqual([]);
    expect(describeStaleReason({ reason: 'forced' })).toBe('forced (--force)');
    expect(describeStaleReason({ reason: 'input-missing', file: 'x.txt' })).toBe('input missing: x.txt');
    expect(describeStaleReason({ reason: 'cannot-select-inputs', message: 'bad ref' })).toBe('cannot select inputs: bad ref');
    expect(describeStaleReason({ reason: 'upstream-will-run', node: 'a' })).toBe('"a" would run first (its output may change)');
  });

  it('words why a node was skipped or failed', () => {
    expect(describeSkipReason({ reason: 'dependency-failed', node: 'a' })).toBe('"a" failed');
    expect(describeSkipReason({ reason: 'awaiting-review', node: 'plan' })).toBe('"plan" awaits review (spx approve plan)');
    expect(describeSkipReason({ reason: 'not-built', node: 'b' })).toBe('"b" was not built');
    expect(describeSkipReason({ reason: 'interrupted' })).toBe('the build was interrupted');
    expect(describeSkipReason({ reason: 'stopped-after-failure' })).toBe('the build stopped after a failure');
    expect(describeFailure({ reason: 'cache-miss' })).toBe('not in the cache, and --cache-only forbids calling a model or an agent');
    expect(describeFailure({ reason: 'missing-input', files: ['a', 'b'] })).toBe('input file not found: a, b');
    expect(describeFailure({ reason: 'node-failure', message: 'command exited with code 1: false' })).toBe('command exited with code 1: false');
    expect(describeFailure({ reason: 'internal', message: 'Error: boom' })).toBe('internal error: Error: boom');
  });
});
