import { escapeIdentifier, Pool, types } from 'pg';
import { type DatabaseConfig, DEFAULT_SCHEMA } from './database-options.js';
import { toDbError } from './errors.js';

const INT8_OID = 20;
const parseInt8 = (value: string): number => Number(value);

// Per pool, not pg.types.setTypeParser: that would change int8 parsing for every pg user in the process.
const getTypeParser = ((oid: number, format?: 'text' | 'binary') =>
  oid === INT8_OID && format !== 'binary'
    ? parseInt8
    : types.getTypeParser(oid, format as 'text')) as typeof types.getTypeParser;

/**
 * Builds the node-postgres pool behind a {@link SandfleetDatabase}: int8 parsed to number, and
 * for a non-public schema `search_path` set on every new connection before it is handed out.
 */
export function createPool(config: DatabaseConfig): Pool {
  const searchPath =
    config.schema === DEFAULT_SCHEMA ? undefined : `set search_path to ${escapeIdentifier(config.schema)}`;
  const pool = new Pool({
    connectionString: config.connectionString,
    max: config.maxConnections,
    connectionTimeoutMillis: config.connectionTimeoutMs,
    keepAlive: true,
    types: { getTypeParser },
    // pg-pool awaits onConnect and, when it fails, ends the connection and fails the acquire,
    // so no query ever runs on a connection without its search_path.
    ...(searchPath === undefined
      ? {}
      : {
          onConnect: async (client) => {
            await client.query(searchPath);
          },
        }),
  });
  // Without a listener an idle connection's error would crash the process.
  pool.on('error', (error) => config.onError?.(toDbError(error)));
  // pg-pool listens for errors only while a connection is idle. One checked out with no query in
  // flight (between a transaction's statements, or before its release) that the server drops —
  // PostgreSQL's fast shutdown sends every backend a FATAL — emits `error` with no listener, which
  // ends the process (seen: a worker died mid-outage and four finished steps ran again). The
  // connection is then unqueryable: its next query fails as unavailable, and the pool discards it
  // on release.
  pool.on('connect', (client) => {
    client.on('error', (error) => config.onError?.(toDbError(error)));
  });
  return pool;
}
