import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createPool } from '../src/create-pool.js';
import { type DbError, isConnectionError } from '../src/errors.js';
import { TEST_DATABASE_URL } from './support/test-database.js';

async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('createPool', () => {
  it('survives the server dropping a checked-out connection that has no query in flight', async () => {
    const errors: DbError[] = [];
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.on('uncaughtException', onUncaught);
    const pool = createPool({
      connectionString: TEST_DATABASE_URL,
      schema: 'public',
      maxConnections: 2,
      connectionTimeoutMs: 5000,
      onError: (error) => errors.push(error),
    });
    try {
      // Checked out, between statements: what a transaction holds while PostgreSQL shuts down.
      const client = await pool.connect();
      const { rows } = await client.query<{ pid: number }>('select pg_backend_pid() as pid');
      const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await admin.connect();
      // The FATAL 57P01 a fast shutdown sends every backend.
      await admin.query('select pg_terminate_backend($1)', [rows[0]?.pid]);
      await admin.end();
      await until(() => errors.length > 0);
      expect(uncaught).toEqual([]);
      expect(errors[0]).toMatchObject({ code: 'DB_UNAVAILABLE', retryable: true });
      const next = await client.query('select 1').catch((error: unknown) => error);
      expect(isConnectionError(next)).toBe(true);
      client.release();
      // The dead connection was discarded: the pool answers on a new one.
      expect((await pool.query<{ one: number }>('select 1 as one')).rows).toEqual([{ one: 1 }]);
    } finally {
      process.off('uncaughtException', onUncaught);
      await pool.end();
    }
  });
});
