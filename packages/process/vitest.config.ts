import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // Each test spawns a node process; its start-up takes about a second on a loaded machine.
    testTimeout: 20_000,
  },
});
