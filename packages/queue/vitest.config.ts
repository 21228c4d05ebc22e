import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // Real Redis: retries wait out BullMQ's exponential backoff (1 s, then 2 s).
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
