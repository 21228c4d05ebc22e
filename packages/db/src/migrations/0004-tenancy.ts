import { type Kysely, sql } from 'kysely';

/**
 * Tenancy: `steps.producer` (the API token's name that enqueued the step; null for raw-BullMQ
 * producers and rows from before), with the index per-token quotas count unfinished steps by;
 * and table `chat_sessions`, each session's owning agent, filled from existing messages (the
 * agent of a session's first message owns it).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('steps').addColumn('producer', 'text').execute();
  await db.schema
    .createIndex('steps_unfinished_producer_idx')
    .on('steps')
    .column('producer')
    .where(sql.ref('status'), 'in', sql`('queued', 'running')`)
    .execute();
  await db.schema
    .createTable('chat_sessions')
    .addColumn('session_id', 'text', (col) => col.primaryKey())
    .addColumn('agent_id', 'text', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
  await sql`
    insert into chat_sessions (session_id, agent_id, created_at)
    select distinct on (session_id) session_id, agent_id, created_at
    from chat_messages order by session_id, id
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('chat_sessions').execute();
  await db.schema.dropIndex('steps_unfinished_producer_idx').execute();
  await db.schema.alterTable('steps').dropColumn('producer').execute();
}
