import type { AddressInfo } from 'node:net';
import { type ApiConfig, ConfigError, loadApiTokens } from '@sandfleet/config';
import { fleetNames } from '@sandfleet/contracts';
import { createDatabase } from '@sandfleet/db';
import type { Logger } from '@sandfleet/logging';
import { SandfleetMetrics } from '@sandfleet/metrics';
import { createRedisConnection, StepQueue, WarmHintQueue } from '@sandfleet/queue';
import { StepCanceller, StepOutcomes } from '@sandfleet/steps';
import { CancelBus, EventSubscriber, StepEventPublisher } from '@sandfleet/stream';
import type { FastifyInstance } from 'fastify';
import { buildApp } from './build-app.js';

/** Hosts on which `SANDFLEET_API_ALLOW_NO_AUTH` is honoured. */
export const LOOPBACK_HOSTS: readonly string[] = ['127.0.0.1', '::1', 'localhost'];

/** A listening API. */
export interface RunningApi {
  app: FastifyInstance;
  /** Base URL, e.g. `http://127.0.0.1:8080` (a wildcard host shows as loopback). */
  url: string;
  /** Stops listening (ending open event streams), then closes every connection. Idempotent. */
  close(): Promise<void>;
}

/** Options of {@link startApi}. */
export interface StartApiOptions {
  /**
   * Metrics to render on `/metrics`, e.g. one shared with a worker in the same process
   * (`sandfleet up`). @defaultValue a new `SandfleetMetrics` with process metrics
   */
  metrics?: SandfleetMetrics;
}

/**
 * Refuses a config without authentication unless it is explicitly allowed on a loopback host.
 * @throws ConfigError (`INVALID_CONFIG`) naming `SANDFLEET_API_TOKENS`.
 */
export function assertAuthConfig(config: ApiConfig): void {
  if (config.apiTokens.length > 0 || config.apiTokensFile !== undefined) return;
  if (config.apiAllowNoAuth && LOOPBACK_HOSTS.includes(config.apiHost)) return;
  const message = config.apiAllowNoAuth
    ? `must list at least one token: SANDFLEET_API_ALLOW_NO_AUTH only applies when SANDFLEET_API_HOST is ${LOOPBACK_HOSTS.join(', ')}`
    : 'must list at least one token (or, for local use only, set SANDFLEET_API_ALLOW_NO_AUTH=true with SANDFLEET_API_HOST=127.0.0.1)';
  throw new ConfigError([{ path: 'SANDFLEET_API_TOKENS', message }]);
}

function displayHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * Opens the API's connections (PostgreSQL, Redis, queue), builds the app and listens on
 * `apiHost:apiPort`. Does not wait for Redis or PostgreSQL: `/readyz` reports them.
 * @throws ConfigError when authentication is not configured (see {@link assertAuthConfig}), or
 *   `SANDFLEET_API_TOKENS_FILE` cannot be read or is not a valid tokens file.
 */
export async function startApi(
  config: ApiConfig,
  logger: Logger,
  options: StartApiOptions = {},
): Promise<RunningApi> {
  assertAuthConfig(config);
  const tokens = loadApiTokens(config.apiTokens, config.apiTokensFile);
  const db = createDatabase({
    connectionString: config.databaseUrl,
    schema: config.databaseSchema,
    onError: (err) => logger.warn({ err }, 'database connection error'),
  });
  const redis = createRedisConnection({ url: config.redisUrl, role: 'producer', name: 'sandfleet-api' });
  // `/readyz`'s own connections: the shared ones answer late behind event streams' replies.
  const readyRedis = createRedisConnection({
    url: config.redisUrl,
    role: 'producer',
    name: 'sandfleet-api-ready',
  });
  readyRedis.on('error', () => undefined); // `/readyz` reports it
  const readyDb = createDatabase({
    connectionString: config.databaseUrl,
    schema: config.databaseSchema,
    maxConnections: 1,
    onError: () => undefined, // `/readyz` reports it
  });
  const queue = new StepQueue({
    redisUrl: config.redisUrl,
    prefix: config.queuePrefix,
    name: config.queueName,
    store: db.steps,
    onError: (err) => logger.warn({ err }, 'queue connection error'),
  });
  const warmHints = new WarmHintQueue({
    redisUrl: config.redisUrl,
    prefix: config.queuePrefix,
    name: config.queueName,
    onError: (err) => logger.warn({ err }, 'warm-hints queue connection error'),
  });
  const names = fleetNames(config.queuePrefix);
  const subscriber = new EventSubscriber({ redis, names });
  const cancelBus = new CancelBus({ redis, names });
  const outcomes = new StepOutcomes({
    steps: db.steps,
    openPublisher: (publisherOptions) => StepEventPublisher.open({ redis, names, ...publisherOptions }),
  });
  const canceller = new StepCanceller({ steps: db.steps, queue, cancelBus, outcomes });
  const app = buildApp({
    db,
    queue,
    warmHints,
    subscriber,
    canceller,
    pingRedis: () => readyRedis.ping(),
    pingPostgres: () => readyDb.ping(),
    metrics: options.metrics ?? new SandfleetMetrics({ processMetrics: true }),
    logger,
    auth: { tokens, allowNoAuth: config.apiAllowNoAuth },
    bodyLimitBytes: config.apiBodyLimitBytes,
    batchMaxSteps: config.apiBatchMaxSteps,
    batchBodyLimitBytes: config.apiBatchBodyLimitBytes,
    heartbeatMs: config.apiHeartbeatMs,
    trustProxy: config.apiTrustProxy,
    sseLimits: { maxPerToken: config.apiSseMaxPerToken, maxTotal: config.apiSseMaxTotal },
  });
  let closed: Promise<void> | undefined;
  const close = () => {
    closed ??= (async () => {
      await app.close();
      await subscriber.close();
      await cancelBus.close();
      await queue.close();
      await warmHints.close();
      redis.disconnect();
      readyRedis.disconnect();
      await db.close();
      await readyDb.close();
    })();
    return closed;
  };
  try {
    await app.listen({ host: config.apiHost, port: config.apiPort });
  } catch (error) {
    await close();
    throw error;
  }
  const { port } = app.server.address() as AddressInfo;
  return { app, url: `http://${displayHost(config.apiHost)}:${port}`, close };
}
