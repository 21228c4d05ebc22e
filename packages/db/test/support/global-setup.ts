import { ensureTestDatabase } from './test-database.js';

/** Vitest global setup: the test database exists before any test file runs. */
export default async function setup(): Promise<void> {
  await ensureTestDatabase();
}
