import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    // Files share one Docker engine and 2 cores: run them one after another.
    fileParallelism: false,
  },
});
