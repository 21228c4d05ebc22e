import { afterEach, describe, expect, it } from 'vitest';
import { createDatabase, DbError, type SandfleetDatabase } from '../src/index.js';
import { stepId, stepSpec } from './support/step-specs.js';
import {
  createTestDatabase,
  disposeTestDatabase,
  TEST_DATABASE_URL,
  withClient,
} from './support/test-database.js';

describe('SandfleetDatabase', () => {
  const opened: SandfleetDatabase[] = [];
  const open = (database: SandfleetDatabase) => {
    opened.push(database);
    return database;
  };

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((database) => database.close()));
  });

  it('answers ping when PostgreSQL is reachable', async () => {
    const db = open(createDatabase({ connectionString: TEST_DATABASE_URL }));
    await expect(db.ping()).resolves.toBeUndefined();
  });

  it('fails with a retryable DB_UNAVAILABLE when PostgreSQL cannot be reached', async () => {
    const db = open(createDatabase({ connectionString: 'postgres://postgres@127.0.0.1:1/sandfleet' }));
    const failure = db.ping();
    await expect(failure).rejects.toBeInstanceOf(DbError);
    await expect(failure).rejects.toMatchObject({ code: 'DB_UNAVAILABLE', retryable: true });
    await expect(db.migrate()).rejects.toMatchObject({ code: 'DB_UNAVAILABLE', retryable: true });
    await expect(db.steps.get('x')).rejects.toMatchObject({
      code: 'DB_UNAVAILABLE',
      context: { stepId: 'x' },
    });
  });

  it('keeps schemas apart: a step written in one schema is invisible in another', async () => {
    const a = createTestDatabase();
    const b = createTestDatabase();
    try {
      await Promise.all([a.migrate(), b.migrate()]);
      const id = stepId();
      await a.steps.insertQueued({ id, spec: stepSpec(id) });
      expect(await a.steps.get(id)).toBeDefined();
      expect(await b.steps.get(id)).toBeUndefined();
    } finally {
      await Promise.all([disposeTestDatabase(a), disposeTestDatabase(b)]);
    }
  });

  it('closes idempotently and refuses use after close with DATABASE_CLOSED', async () => {
    const db = createDatabase({ connectionString: TEST_DATABASE_URL });
    await db.ping();
    await Promise.all([db.close(), db.close()]);
    await db.close();
    await expect(db.ping()).rejects.toMatchObject({ code: 'DATABASE_CLOSED' });
    await expect(db.steps.get('x')).rejects.toMatchObject({ code: 'DATABASE_CLOSED' });
  });

  it('closes a database that never connected', async () => {
    const db = createDatabase({ connectionString: TEST_DATABASE_URL });
    await expect(db.close()).resolves.toBeUndefined();
  });

  it('refuses to drop the public schema', async () => {
    const db = open(createDatabase({ connectionString: TEST_DATABASE_URL }));
    await expect(db.dropSchema()).rejects.toMatchObject({ code: 'SCHEMA_NOT_DROPPABLE' });
  });

  it('rejects invalid options with INVALID_OPTIONS', () => {
    const attempts = [
      { connectionString: '' },
      { connectionString: TEST_DATABASE_URL, schema: 'Bad-Schema' },
      { connectionString: TEST_DATABASE_URL, schema: 'pg_catalog' },
      { connectionString: TEST_DATABASE_URL, maxConnections: 0 },
      { connectionString: TEST_DATABASE_URL, connectionTimeoutMs: 1.5 },
    ];
    for (const options of attempts) {
      expect(() => createDatabase(options)).toThrowError(
        expect.objectContaining({ code: 'INVALID_OPTIONS' }),
      );
    }
  });

  it('reports dropped idle connections through onError and reconnects on the next query', async () => {
    const applicationName = `sf_${stepId('drop').replace(/-/g, '_')}`;
    const url = new URL(TEST_DATABASE_URL);
    url.searchParams.set('application_name', applicationName);
    let reported: (error: DbError) => void = () => {};
    const errorReported = new Promise<DbError>((resolve) => {
      reported = resolve;
    });
    const db = open(
      createDatabase({ connectionString: url.toString(), onError: (error) => reported(error) }),
    );
    await db.ping();
    await withClient('public', (client) =>
      client.query('select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1', [
        applicationName,
      ]),
    );
    await expect(errorReported).resolves.toMatchObject({ code: 'DB_UNAVAILABLE', retryable: true });
    await expect(db.ping()).resolves.toBeUndefined();
  });
});
