import { type ErrorContext, SandfleetError } from '@sandfleet/contracts';

/**
 * Codes a {@link DbError} carries, a part of the catalogue `ErrorCode` of `@sandfleet/contracts`;
 * callers (the API, the CLI) branch on these.
 */
export type DbErrorCode =
  /** PostgreSQL could not be reached or dropped the connection. Retryable. */
  | 'DB_UNAVAILABLE'
  /** A statement failed; retryable only for transient conflicts (serialization, deadlock, lock timeout). */
  | 'QUERY_FAILED'
  /** A migration failed and was rolled back; `context.migration` names it when known. */
  | 'MIGRATION_FAILED'
  /** A list cursor was not one this package produced. */
  | 'INVALID_CURSOR'
  /** A repository argument is out of range or inconsistent. */
  | 'INVALID_ARGUMENT'
  /** `createDatabase` options are invalid. */
  | 'INVALID_OPTIONS'
  /** `dropSchema()` was called without a dedicated (non-public) schema. */
  | 'SCHEMA_NOT_DROPPABLE'
  /** The database was used after `close()`. */
  | 'DATABASE_CLOSED';

export interface DbErrorOptions {
  /** @defaultValue false */
  retryable?: boolean;
  cause?: unknown;
  context?: ErrorContext;
}

/** A failure of the database layer, with a stable {@link DbErrorCode}. */
export class DbError extends SandfleetError {
  declare readonly code: DbErrorCode;

  constructor(code: DbErrorCode, message: string, options: DbErrorOptions = {}) {
    super(code, message, options);
  }
}

// SQLSTATE classes and codes that mean the server went away or refused us for now.
const CONNECTION_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);
// Transient conflicts: running the same statement again may succeed.
const RETRYABLE_SQLSTATES = new Set(['40001', '40P01', '55P03']);
const CONNECTION_ERRNOS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);
// node-postgres raises these without a code.
const CONNECTION_MESSAGES =
  /connection terminated|timeout exceeded when trying to connect|encountered a connection error|is not queryable/i;

function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}

/** Errors to inspect: the error, its `cause` chain and, for an AggregateError, its members. */
function* errorChain(error: unknown, depth = 0): Generator<unknown> {
  if (depth > 5 || error === undefined || error === null) return;
  yield error;
  if (error instanceof AggregateError) {
    for (const inner of error.errors) yield* errorChain(inner, depth + 1);
  }
  if (error instanceof Error) yield* errorChain(error.cause, depth + 1);
}

/** Whether `error` means PostgreSQL is unreachable or dropped the connection (so a retry may help). */
export function isConnectionError(error: unknown): boolean {
  for (const item of errorChain(error)) {
    if (item instanceof DbError) return item.code === 'DB_UNAVAILABLE';
    const code = errorCode(item);
    if (code !== undefined) {
      if (CONNECTION_ERRNOS.has(code) || CONNECTION_SQLSTATES.has(code) || code.startsWith('08')) return true;
    }
    if (item instanceof Error && code === undefined && CONNECTION_MESSAGES.test(item.message)) return true;
  }
  return false;
}

/**
 * Translates anything thrown by pg or Kysely into a {@link DbError}: connection failures become
 * retryable `DB_UNAVAILABLE`, the rest `QUERY_FAILED` (retryable for transient conflicts).
 * A `DbError` passes through unchanged.
 */
export function toDbError(error: unknown, context: ErrorContext = {}): DbError {
  if (error instanceof DbError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (isConnectionError(error)) {
    return new DbError('DB_UNAVAILABLE', `database unavailable: ${message}`, {
      retryable: true,
      cause: error,
      context,
    });
  }
  const sqlState = errorCode(error);
  return new DbError('QUERY_FAILED', `database query failed: ${message}`, {
    retryable: sqlState !== undefined && RETRYABLE_SQLSTATES.has(sqlState),
    cause: error,
    context: sqlState === undefined ? context : { ...context, sqlState },
  });
}
