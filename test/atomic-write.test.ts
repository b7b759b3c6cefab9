import { mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { writeFileAtomic } from '../src/util/atomic-write.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'spx-atomic-'));
  dirs.push(dir);
  return dir;
}

it('writes through no symlink planted at its temp name, and leaves the file whole', () => {
  const project = tempDir();
  const outside = tempDir();
  writeFileSync(path.join(outside, 'victim'), 'mine\n');
  const target = path.join(project, 'out.txt');
  // The temp name is `<path>.tmp-<pid>-<counter>`: plant a link at every name the next writes could use.
  for (let counter = 0; counter < 64; counter++) symlinkSync(path.join(outside, 'victim'), `${target}.tmp-${process.pid}-${counter}`);

  for (let write = 0; write < 8; write++) writeFileAtomic(target, `content ${write}\n`);

  expect(readFileSync(path.join(outside, 'victim'), 'utf8')).toBe('mine\n');
  expect(readFileSync(target, 'utf8')).toBe('content 7\n');
  expect(readdirSync(outside)).toEqual(['victim']);
});
