import { fleetPrefixProblem, QUEUE_NAME, QUEUE_PREFIX, RESERVED_REDIS_SEGMENTS } from '@sandfleet/contracts';
import type { z } from 'zod';
import { envSchema } from './env-schema.js';
import { checkedVar, enumVar, stringVar, urlVar } from './env-vars.js';
import type { DeepReadonly } from './parse-config.js';

/** pino levels, most to least severe; `silent` logs nothing. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Default of `SANDFLEET_REDIS_URL`: Redis on the local host. */
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
/** Default of `SANDFLEET_DATABASE_URL`: PostgreSQL on the local host, database `sandfleet`. */
export const DEFAULT_DATABASE_URL = 'postgres://sandfleet:sandfleet@127.0.0.1:5432/sandfleet';

/** PostgreSQL schema names Sandfleet creates and uses: lower-case identifiers. */
const SQL_IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;
/** BullMQ refuses queue names containing `:`. */
const QUEUE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

/** What is wrong with a queue name, undefined when nothing is. */
function queueNameProblem(name: string): string | undefined {
  if (!QUEUE_NAME_PATTERN.test(name)) return `must match ${QUEUE_NAME_PATTERN.source}`;
  if ((RESERVED_REDIS_SEGMENTS as readonly string[]).includes(name)) {
    return `must not be ${RESERVED_REDIS_SEGMENTS.join(', ')}: the fleet's own Redis keys use these after the prefix`;
  }
  return undefined;
}

/** Variables every app reads, by name. Spread into an app's shape to extend it. */
export const commonVars = {
  /** Redis for the queue, events and heartbeats: a `redis://` or `rediss://` URL. */
  SANDFLEET_REDIS_URL: urlVar(DEFAULT_REDIS_URL, ['redis', 'rediss']),
  /** PostgreSQL holding the `steps` table: a `postgres://` or `postgresql://` URL. */
  SANDFLEET_DATABASE_URL: urlVar(DEFAULT_DATABASE_URL, ['postgres', 'postgresql']),
  /** PostgreSQL schema of Sandfleet's tables; tests use a random one. @defaultValue `public` */
  SANDFLEET_DATABASE_SCHEMA: stringVar('public', SQL_IDENTIFIER),
  /** Minimum pino level logged. @defaultValue `info` */
  SANDFLEET_LOG_LEVEL: enumVar(LOG_LEVELS, 'info'),
  /**
   * The fleet: BullMQ key prefix (keys are `<prefix>:<queue>:*`) and the first part of every Redis
   * and Docker name of the fleet (`<prefix>:events:…`, `<prefix>-home-<agentId>`; see
   * docs/design.md, "Fleets and names"). Letters, digits, `_`, `.`, `-`; no `home`, `vault`,
   * `agents` or `egress` part. @defaultValue `sandfleet`
   */
  SANDFLEET_QUEUE_PREFIX: checkedVar(QUEUE_PREFIX, fleetPrefixProblem),
  /** BullMQ queue the steps go through; not `events`, `fence`, `cancel`, `workers`, `agent-lock`. @defaultValue `steps` */
  SANDFLEET_QUEUE_NAME: checkedVar(QUEUE_NAME, queueNameProblem),
};

/**
 * Config every app shares: where Redis and PostgreSQL are, log level, queue names.
 * Fields: `redisUrl`, `databaseUrl`, `databaseSchema`, `logLevel`, `queuePrefix`, `queueName`.
 */
export const CommonConfig = envSchema(commonVars);
/** What `parseConfig(CommonConfig, env)` returns: deeply read-only. */
export type CommonConfig = DeepReadonly<z.output<typeof CommonConfig>>;
