import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createDatabase, type DatabaseOptions, type SandfleetDatabase } from '../../src/index.js';

/** Connection string of the test database (`SANDFLEET_TEST_DATABASE_URL`). */
export const TEST_DATABASE_URL =
  process.env.SANDFLEET_TEST_DATABASE_URL ?? 'postgres://sandfleet:sandfleet@127.0.0.1:5432/sandfleet';

// duplicate_database, and the unique violation a concurrent CREATE DATABASE may raise instead.
const DATABASE_RACE_SQLSTATES = new Set(['42P04', '23505']);

/** Creates the test database when missing, via the `postgres` maintenance database. */
export async function ensureTestDatabase(url = TEST_DATABASE_URL): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (rowCount === 0) {
      await client
        .query(`create database ${client.escapeIdentifier(name)}`)
        .catch((error: { code?: string }) => {
          if (!DATABASE_RACE_SQLSTATES.has(error.code ?? '')) throw error;
        });
    }
  } finally {
    await client.end();
  }
}

/** A schema name no other test uses. */
export function randomSchema(): string {
  return `t_${randomBytes(6).toString('hex')}`;
}

/** A database over a fresh random schema; drop it with {@link disposeTestDatabase}. */
export function createTestDatabase(options: Partial<DatabaseOptions> = {}): SandfleetDatabase {
  return createDatabase({ connectionString: TEST_DATABASE_URL, schema: randomSchema(), ...options });
}

/** Drops the database's schema and closes its pool. */
export async function disposeTestDatabase(db: SandfleetDatabase): Promise<void> {
  try {
    await db.dropSchema();
  } finally {
    await db.close();
  }
}

/**
 * Runs `work` with a plain pg client whose search_path is `schema`, for what the package does not
 * expose (information_schema, forcing created_at ties).
 */
export async function withClient<T>(schema: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    await client.query(`set search_path to ${client.escapeIdentifier(schema)}`);
    return await work(client);
  } finally {
    await client.end();
  }
}
