import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Real containers: timing assertions (timeout, grace) stay meaningful on a small engine.
    fileParallelism: false,
  },
});
