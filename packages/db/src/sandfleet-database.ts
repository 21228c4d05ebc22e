import { Kysely, type MigrationResult, Migrator, PostgresDialect, sql } from 'kysely';
import type { Pool } from 'pg';
import { ChatRepository } from './chat-repository.js';
import { createPool } from './create-pool.js';
import type { Database } from './database.js';
import {
  type DatabaseConfig,
  type DatabaseOptions,
  DEFAULT_SCHEMA,
  resolveDatabaseOptions,
} from './database-options.js';
import { DbError, isConnectionError, toDbError } from './errors.js';
import { SandfleetMigrationProvider } from './migrations/sandfleet-migration-provider.js';
import { StepRepository } from './step-repository.js';

/** Table recording applied migrations (in the configured schema). */
export const MIGRATION_TABLE = 'sandfleet_migration';
/** Table Kysely's Migrator locks while migrating (in the configured schema). */
export const MIGRATION_LOCK_TABLE = 'sandfleet_migration_lock';

/** What {@link SandfleetDatabase.migrate} did. */
export interface MigrateResult {
  /** Names of the migrations applied by this call, in order; empty when already up to date. */
  applied: string[];
}

// PostgreSQL raises these when a concurrent `create schema if not exists` won the race.
const SCHEMA_RACE_SQLSTATES = new Set(['42P06', '23505']);

function isSchemaRace(error: unknown): boolean {
  const code = typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined;
  return typeof code === 'string' && SCHEMA_RACE_SQLSTATES.has(code);
}

function migrationError(error: unknown, failed: MigrationResult | undefined): DbError {
  if (isConnectionError(error)) return toDbError(error);
  const name = failed?.migrationName;
  const message = error instanceof Error ? error.message : String(error);
  return new DbError(
    'MIGRATION_FAILED',
    name === undefined ? `migrating failed: ${message}` : `migration ${name} failed: ${message}`,
    { cause: error, context: name === undefined ? {} : { migration: name } },
  );
}

/**
 * The Sandfleet PostgreSQL database: a pool, its migrations and the repositories over it.
 * Create with {@link createDatabase}; connects lazily; call {@link SandfleetDatabase.close} once done.
 */
export class SandfleetDatabase {
  /** Schema holding the tables. */
  readonly schema: string;
  /** Rows of table `steps`. */
  readonly steps: StepRepository;
  /** Rows of table `chat_messages`. */
  readonly chats: ChatRepository;
  readonly #config: DatabaseConfig;
  readonly #pool: Pool;
  readonly #db: Kysely<Database>;
  #closing: Promise<void> | undefined;

  constructor(options: DatabaseOptions) {
    this.#config = resolveDatabaseOptions(options);
    this.schema = this.#config.schema;
    this.#pool = createPool(this.#config);
    // Tables are also qualified explicitly, so correctness never hangs on search_path alone.
    this.#db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: this.#pool }) }).withSchema(
      this.schema,
    );
    this.steps = new StepRepository({ db: this.#db, isClosed: () => this.closed });
    this.chats = new ChatRepository({ db: this.#db, isClosed: () => this.closed });
  }

  /** Whether {@link SandfleetDatabase.close} was called. */
  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /**
   * Applies every pending migration, in order, in one transaction (all or none) under Kysely's
   * migration lock, so concurrent callers are safe. Creates the schema first when not `public`.
   * @throws DbError `MIGRATION_FAILED` naming the migration (`context.migration`), or
   *   `DB_UNAVAILABLE` when PostgreSQL cannot be reached.
   */
  async migrate(): Promise<MigrateResult> {
    this.#assertOpen();
    await this.#ensureSchema();
    const { error, results = [] } = await this.#migrator().migrateToLatest();
    if (error !== undefined) {
      throw migrationError(
        error,
        results.find((result) => result.status === 'Error'),
      );
    }
    return {
      applied: results.filter((result) => result.status === 'Success').map((result) => result.migrationName),
    };
  }

  /** Names of the migrations not yet applied, in order (for `sandfleet doctor`). Changes nothing. */
  async pendingMigrations(): Promise<string[]> {
    this.#assertOpen();
    try {
      const migrations = await this.#migrator().getMigrations();
      return migrations
        .filter((migration) => migration.executedAt === undefined)
        .map((migration) => migration.name);
    } catch (error) {
      throw toDbError(error);
    }
  }

  /**
   * Checks that PostgreSQL answers a query.
   * @throws DbError `DB_UNAVAILABLE` (retryable) when it does not.
   */
  async ping(): Promise<void> {
    this.#assertOpen();
    try {
      await sql`select 1`.execute(this.#db);
    } catch (error) {
      throw toDbError(error);
    }
  }

  /**
   * Drops the schema and everything in it. For tests, which each use their own schema.
   * @throws DbError `SCHEMA_NOT_DROPPABLE` when the schema is `public`.
   */
  async dropSchema(): Promise<void> {
    this.#assertOpen();
    if (this.schema === DEFAULT_SCHEMA) {
      throw new DbError('SCHEMA_NOT_DROPPABLE', `refusing to drop schema ${DEFAULT_SCHEMA}`, {
        context: { schema: this.schema },
      });
    }
    try {
      await sql`drop schema if exists ${sql.id(this.schema)} cascade`.execute(this.#db);
    } catch (error) {
      throw toDbError(error, { schema: this.schema });
    }
  }

  /** Closes the pool once every checked-out connection is back. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#destroy();
    return this.#closing;
  }

  async #destroy(): Promise<void> {
    // Kysely ends the pool only if it ever used it.
    await this.#db.destroy();
    if (!this.#pool.ended && !this.#pool.ending) await this.#pool.end();
  }

  #assertOpen(): void {
    if (this.closed) throw new DbError('DATABASE_CLOSED', 'database is closed');
  }

  #migrator(): Migrator {
    return new Migrator({
      db: this.#db,
      provider: new SandfleetMigrationProvider(),
      migrationTableSchema: this.schema,
      migrationTableName: MIGRATION_TABLE,
      migrationLockTableName: MIGRATION_LOCK_TABLE,
    });
  }

  async #ensureSchema(): Promise<void> {
    if (this.schema === DEFAULT_SCHEMA) return;
    try {
      await sql`create schema if not exists ${sql.id(this.schema)}`.execute(this.#db);
    } catch (error) {
      if (isSchemaRace(error)) return;
      throw toDbError(error, { schema: this.schema });
    }
  }
}

/**
 * Creates a {@link SandfleetDatabase}. Connects lazily: nothing touches PostgreSQL until the first
 * call. No module-level state: each call has its own pool.
 * @throws DbError `INVALID_OPTIONS` when an option is out of range.
 */
export function createDatabase(options: DatabaseOptions): SandfleetDatabase {
  return new SandfleetDatabase(options);
}
