import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Tests spawn real processes (spx, git, sh); on a 2-core machine a few
    // seconds per test is normal.
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
