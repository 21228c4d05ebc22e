import { DbError } from './errors.js';

/** Schema used when none is given. */
export const DEFAULT_SCHEMA = 'public';
/** @defaultValue for {@link DatabaseOptions.maxConnections}. */
export const DEFAULT_MAX_CONNECTIONS = 10;
/** @defaultValue for {@link DatabaseOptions.connectionTimeoutMs}. */
export const DEFAULT_CONNECTION_TIMEOUT_MS = 10_000;
/** Schema names this package accepts: plain lower-case identifiers, never `pg_…`. */
export const SCHEMA_NAME_PATTERN = /^(?!pg_)[a-z_][a-z0-9_]{0,62}$/;

/** Options of {@link createDatabase}. */
export interface DatabaseOptions {
  /** `postgres://user:password@host:port/database` (node-postgres connection string). */
  connectionString: string;
  /**
   * Schema holding the tables. When it is not `public`, `migrate()` creates it if missing, every
   * pooled connection uses it as `search_path`, and it holds the migration tables; tests use a
   * random one each.
   * @defaultValue `'public'`
   */
  schema?: string;
  /**
   * Size of the connection pool.
   * @defaultValue 10
   */
  maxConnections?: number;
  /**
   * How long acquiring a new connection may take before failing with `DB_UNAVAILABLE`, in ms.
   * @defaultValue 10000
   */
  connectionTimeoutMs?: number;
  /**
   * Called when an idle pooled connection fails (PostgreSQL restarted, network cut). The pool
   * discards that connection and opens a new one on demand; this hook is for logging.
   */
  onError?: (error: DbError) => void;
}

/** Validated {@link DatabaseOptions} with defaults applied. */
export interface DatabaseConfig {
  readonly connectionString: string;
  readonly schema: string;
  readonly maxConnections: number;
  readonly connectionTimeoutMs: number;
  readonly onError: ((error: DbError) => void) | undefined;
}

function invalid(message: string): DbError {
  return new DbError('INVALID_OPTIONS', `invalid database options: ${message}`);
}

function positiveInteger(value: number | undefined, fallback: number, name: string, max: number): number {
  const result = value ?? fallback;
  if (!Number.isInteger(result) || result < 1 || result > max) {
    throw invalid(`${name} must be an integer from 1 to ${max}`);
  }
  return result;
}

/**
 * Validates options and applies defaults.
 * @throws DbError `INVALID_OPTIONS` naming the bad option.
 */
export function resolveDatabaseOptions(options: DatabaseOptions): DatabaseConfig {
  if (typeof options.connectionString !== 'string' || options.connectionString.trim() === '') {
    throw invalid('connectionString must not be empty');
  }
  const schema = options.schema ?? DEFAULT_SCHEMA;
  if (!SCHEMA_NAME_PATTERN.test(schema)) throw invalid(`schema must match ${SCHEMA_NAME_PATTERN.source}`);
  return Object.freeze({
    connectionString: options.connectionString,
    schema,
    maxConnections: positiveInteger(options.maxConnections, DEFAULT_MAX_CONNECTIONS, 'maxConnections', 1000),
    connectionTimeoutMs: positiveInteger(
      options.connectionTimeoutMs,
      DEFAULT_CONNECTION_TIMEOUT_MS,
      'connectionTimeoutMs',
      600_000,
    ),
    onError: options.onError,
  });
}
