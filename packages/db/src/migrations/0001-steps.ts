import { type Kysely, sql } from 'kysely';

// A migration is a frozen snapshot: it spells out its values instead of importing contracts
// that may change later.
const STATUSES = ['queued', 'running', 'succeeded', 'failed', 'timed_out', 'cancelled', 'error'];

/** Creates table `steps` and the indexes behind the API's list queries. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('steps')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('agent_id', 'text', (col) => col.notNull())
    .addColumn('kind', 'text', (col) => col.notNull().defaultTo('task'))
    .addColumn('status', 'text', (col) => col.notNull())
    .addColumn('image', 'text')
    .addColumn('image_id', 'text')
    .addColumn('command', 'jsonb', (col) => col.notNull())
    .addColumn('spec', 'jsonb', (col) => col.notNull())
    .addColumn('run_id', 'text')
    .addColumn('task_id', 'text')
    .addColumn('chat_session_id', 'text')
    .addColumn('labels', 'jsonb', (col) => col.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('priority', 'integer')
    .addColumn('attempts', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('max_attempts', 'integer', (col) => col.notNull().defaultTo(1))
    .addColumn('worker_id', 'text')
    .addColumn('exit_code', 'integer')
    .addColumn('oom_killed', 'boolean', (col) => col.notNull().defaultTo(false))
    .addColumn('output', 'text', (col) => col.notNull().defaultTo(''))
    .addColumn('output_bytes', 'bigint', (col) => col.notNull().defaultTo(0))
    .addColumn('output_truncated', 'boolean', (col) => col.notNull().defaultTo(false))
    .addColumn('error', 'text')
    .addColumn('error_code', 'text')
    .addColumn('result', 'jsonb')
    .addColumn('cancel_requested_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('started_at', 'timestamptz')
    .addColumn('finished_at', 'timestamptz')
    .addColumn('duration_ms', 'integer')
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addCheckConstraint(
      'steps_status_check',
      sql`status in (${sql.join(STATUSES.map((status) => sql.lit(status)))})`,
    )
    .execute();

  await db.schema
    .createIndex('steps_status_created_at_id_idx')
    .on('steps')
    .columns(['status', 'created_at desc', 'id desc'])
    .execute();
  await db.schema
    .createIndex('steps_agent_id_created_at_id_idx')
    .on('steps')
    .columns(['agent_id', 'created_at desc', 'id desc'])
    .execute();
  await db.schema
    .createIndex('steps_created_at_id_idx')
    .on('steps')
    .columns(['created_at desc', 'id desc'])
    .execute();
  await db.schema
    .createIndex('steps_run_id_idx')
    .on('steps')
    .column('run_id')
    .where(sql.ref('run_id'), 'is not', null)
    .execute();
  await db.schema.createIndex('steps_labels_idx').on('steps').using('gin').column('labels').execute();
}

/** Drops table `steps` and, with it, its indexes. */
export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('steps').execute();
}
