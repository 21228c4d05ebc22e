import { QUEUE_NAME, QUEUE_PREFIX } from '@sandfleet/contracts';
import type { z } from 'zod';
import { envSchema } from './env-schema.js';
import { enumVar, stringVar, urlVar } from './env-vars.js';
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
/** A BullMQ prefix: the first segment of every queue key. */
const QUEUE_PREFIX_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;
/** BullMQ refuses queue names containing `:`. */
const QUEUE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

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
  /** BullMQ key prefix (keys are `<prefix>:<queue>:*`); only tests change it. @defaultValue `sandfleet` */
  SANDFLEET_QUEUE_PREFIX: stringVar(QUEUE_PREFIX, QUEUE_PREFIX_PATTERN),
  /** BullMQ queue the steps go through. @defaultValue `steps` */
  SANDFLEET_QUEUE_NAME: stringVar(QUEUE_NAME, QUEUE_NAME_PATTERN),
};

/**
 * Config every app shares: where Redis and PostgreSQL are, log level, queue names.
 * Fields: `redisUrl`, `databaseUrl`, `databaseSchema`, `logLevel`, `queuePrefix`, `queueName`.
 */
export const CommonConfig = envSchema(commonVars);
/** What `parseConfig(CommonConfig, env)` returns: deeply read-only. */
export type CommonConfig = DeepReadonly<z.output<typeof CommonConfig>>;
