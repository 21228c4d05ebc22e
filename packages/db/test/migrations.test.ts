import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATION_TABLE, type SandfleetDatabase } from '../src/index.js';

const ALL_MIGRATIONS = ['0001-steps', '0002-chat-messages', '0003-pending-files', '0004-tenancy'];

import { createTestDatabase, disposeTestDatabase, withClient } from './support/test-database.js';

const CONTRACT_COLUMNS: Record<string, { type: string; nullable: boolean; hasDefault?: boolean }> = {
  id: { type: 'text', nullable: false },
  agent_id: { type: 'text', nullable: false },
  kind: { type: 'text', nullable: false, hasDefault: true },
  status: { type: 'text', nullable: false },
  image: { type: 'text', nullable: true },
  image_id: { type: 'text', nullable: true },
  command: { type: 'jsonb', nullable: false },
  spec: { type: 'jsonb', nullable: false },
  run_id: { type: 'text', nullable: true },
  task_id: { type: 'text', nullable: true },
  chat_session_id: { type: 'text', nullable: true },
  labels: { type: 'jsonb', nullable: false, hasDefault: true },
  priority: { type: 'integer', nullable: true },
  attempts: { type: 'integer', nullable: false, hasDefault: true },
  max_attempts: { type: 'integer', nullable: false, hasDefault: true },
  worker_id: { type: 'text', nullable: true },
  exit_code: { type: 'integer', nullable: true },
  oom_killed: { type: 'boolean', nullable: false, hasDefault: true },
  output: { type: 'text', nullable: false, hasDefault: true },
  output_bytes: { type: 'bigint', nullable: false, hasDefault: true },
  output_truncated: { type: 'boolean', nullable: false, hasDefault: true },
  pending_files: { type: 'jsonb', nullable: true },
  error: { type: 'text', nullable: true },
  error_code: { type: 'text', nullable: true },
  result: { type: 'jsonb', nullable: true },
  cancel_requested_at: { type: 'timestamp with time zone', nullable: true },
  created_at: { type: 'timestamp with time zone', nullable: false, hasDefault: true },
  started_at: { type: 'timestamp with time zone', nullable: true },
  finished_at: { type: 'timestamp with time zone', nullable: true },
  duration_ms: { type: 'integer', nullable: true },
  updated_at: { type: 'timestamp with time zone', nullable: false, hasDefault: true },
  producer: { type: 'text', nullable: true },
};

describe('migrations', () => {
  let db: SandfleetDatabase;

  beforeAll(() => {
    db = createTestDatabase();
  });

  afterAll(async () => {
    await disposeTestDatabase(db);
  });

  it('lists every migration as pending before the first migrate, creating nothing', async () => {
    expect(await db.pendingMigrations()).toEqual(ALL_MIGRATIONS);
    const schemas = await withClient(db.schema, (client) =>
      client.query('select 1 from information_schema.schemata where schema_name = $1', [db.schema]),
    );
    expect(schemas.rowCount).toBe(0);
  });

  it('creates the schema and applies every migration in order on first migrate', async () => {
    expect(await db.migrate()).toEqual({ applied: ALL_MIGRATIONS });
    const tables = await withClient(db.schema, (client) =>
      client.query<{ table_name: string }>(
        'select table_name from information_schema.tables where table_schema = $1 order by table_name',
        [db.schema],
      ),
    );
    expect(tables.rows.map((row) => row.table_name)).toEqual([
      'chat_messages',
      'chat_sessions',
      MIGRATION_TABLE,
      `${MIGRATION_TABLE}_lock`,
      'steps',
    ]);
  });

  it('applies nothing on a second migrate and then has no pending migrations', async () => {
    expect(await db.migrate()).toEqual({ applied: [] });
    expect(await db.pendingMigrations()).toEqual([]);
  });

  it('applies each migration once when two processes migrate the same schema at the same time', async () => {
    const first = createTestDatabase();
    const second = createTestDatabase({ schema: first.schema });
    try {
      const results = await Promise.all([first.migrate(), second.migrate()]);
      expect(results.flatMap((result) => result.applied).sort()).toEqual(ALL_MIGRATIONS);
    } finally {
      await second.close();
      await disposeTestDatabase(first);
    }
  });

  it('gives table steps the contract columns with their types, nullability and defaults', async () => {
    const columns = await withClient(db.schema, (client) =>
      client.query<{
        column_name: string;
        data_type: string;
        is_nullable: string;
        column_default: string | null;
      }>(
        `select column_name, data_type, is_nullable, column_default
           from information_schema.columns where table_schema = $1 and table_name = 'steps'`,
        [db.schema],
      ),
    );
    const actual = Object.fromEntries(
      columns.rows.map((row) => [
        row.column_name,
        {
          type: row.data_type,
          nullable: row.is_nullable === 'YES',
          ...(row.column_default === null ? {} : { hasDefault: true }),
        },
      ]),
    );
    expect(actual).toEqual(CONTRACT_COLUMNS);
  });

  it('rejects a status outside the contract statuses', async () => {
    const insert = withClient(db.schema, (client) =>
      client.query(
        `insert into steps (id, agent_id, status, command, spec) values ('x', 'a', 'paused', '[]', '{}')`,
      ),
    );
    await expect(insert).rejects.toMatchObject({ code: '23514' });
  });

  it('indexes the list queries and the labels', async () => {
    const indexes = await withClient(db.schema, (client) =>
      client.query<{ indexname: string; indexdef: string }>(
        `select indexname, indexdef from pg_indexes where schemaname = $1 and tablename = 'steps'`,
        [db.schema],
      ),
    );
    const defs = Object.fromEntries(indexes.rows.map((row) => [row.indexname, row.indexdef]));
    expect(defs.steps_status_created_at_id_idx).toMatch(/\(status, created_at DESC, id DESC\)/);
    expect(defs.steps_agent_id_created_at_id_idx).toMatch(/\(agent_id, created_at DESC, id DESC\)/);
    expect(defs.steps_created_at_id_idx).toMatch(/\(created_at DESC, id DESC\)/);
    expect(defs.steps_run_id_idx).toMatch(/\(run_id\) WHERE \(run_id IS NOT NULL\)/);
    expect(defs.steps_labels_idx).toMatch(/USING gin \(labels\)/);
  });

  it('reports a failing migration as MIGRATION_FAILED naming it', async () => {
    const broken = createTestDatabase();
    try {
      await broken.migrate();
      // Forgetting that 0001-steps ran makes it run again, into the existing table.
      await withClient(broken.schema, (client) => client.query(`delete from ${MIGRATION_TABLE}`));
      await expect(broken.migrate()).rejects.toMatchObject({
        code: 'MIGRATION_FAILED',
        retryable: false,
        context: { migration: '0001-steps' },
      });
      expect(await broken.pendingMigrations()).toEqual(ALL_MIGRATIONS);
    } finally {
      await disposeTestDatabase(broken);
    }
  });
});
