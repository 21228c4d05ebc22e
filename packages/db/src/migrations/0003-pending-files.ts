import { type Kysely, sql } from 'kysely';

/**
 * Adds `steps.pending_files`: the file contents of a step that has not ended, so PostgreSQL holds
 * the whole accepted spec and a step whose job Redis lost can be queued again. Cleared when the
 * step ends (contents are private and can be large). Plus the index the reconciler scans.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('steps').addColumn('pending_files', 'jsonb').execute();
  await db.schema
    .createIndex('steps_unfinished_updated_at_idx')
    .on('steps')
    .columns(['status', 'updated_at'])
    .where(sql.ref('status'), 'in', sql`('queued', 'running')`)
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('steps_unfinished_updated_at_idx').execute();
  await db.schema.alterTable('steps').dropColumn('pending_files').execute();
}
