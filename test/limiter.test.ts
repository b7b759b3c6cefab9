import { expect, it } from 'vitest';
import { Limiter } from '../src/util/limiter.js';

it('runs at most its limit of tasks at once, the rest in the order they came', async () => {
  const limiter = new Limiter(2);
  let active = 0;
  let most = 0;
  const started: number[] = [];
  const task = (n: number) => async (): Promise<number> => {
    started.push(n);
    most = Math.max(most, ++active);
    await new Promise((resolve) => setTimeout(resolve, 5));
    active--;
    return n * 10;
  };
  const results = await Promise.all([1, 2, 3, 4, 5].map((n) => limiter.run(task(n))));
  expect(results).toEqual([10, 20, 30, 40, 50]);
  expect(most).toBe(2);
  expect(started).toEqual([1, 2, 3, 4, 5]);
});

it('frees its place when a task fails', async () => {
  const limiter = new Limiter(1);
  await expect(limiter.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
  expect(await limiter.run(() => Promise.resolve('next'))).toBe('next');
});
