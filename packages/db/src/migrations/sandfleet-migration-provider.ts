import type { Migration, MigrationProvider } from 'kysely';
import * as steps0001 from './0001-steps.js';
import * as chatMessages0002 from './0002-chat-messages.js';
import * as pendingFiles0003 from './0003-pending-files.js';
import * as tenancy0004 from './0004-tenancy.js';

/**
 * Every migration, by name. Names sort in the order they run; imported statically so the built
 * package needs no migration folder at run time (unlike Kysely's FileMigrationProvider).
 * Never edit or rename an applied migration: add a new one.
 */
export const MIGRATIONS: Readonly<Record<string, Migration>> = Object.freeze({
  '0001-steps': steps0001,
  '0002-chat-messages': chatMessages0002,
  '0003-pending-files': pendingFiles0003,
  '0004-tenancy': tenancy0004,
});

/** Hands Kysely's Migrator the statically imported {@link MIGRATIONS}. */
export class SandfleetMigrationProvider implements MigrationProvider {
  async getMigrations(): Promise<Record<string, Migration>> {
    return { ...MIGRATIONS };
  }
}
