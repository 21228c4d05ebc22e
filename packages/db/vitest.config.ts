import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    // Real PostgreSQL: migrations and concurrent transitions can take a while on a busy host.
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
