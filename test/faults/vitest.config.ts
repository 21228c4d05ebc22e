import { defineConfig } from 'vitest/config';

/** The fault suite (`pnpm test:faults`), apart from `pnpm test`: it starts systems of its own. */
export default defineConfig({
  test: {
    include: ['faults/**/*.fault.ts'],
    testTimeout: 600_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
