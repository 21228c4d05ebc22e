import { randomUUID } from 'node:crypto';
import { DEFAULT_BATCH_MAX_STEPS } from '@sandfleet/contracts';
import { SandfleetMetrics } from '@sandfleet/metrics';
import { TokenQuotas } from '@sandfleet/steps';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import { agentsPlugin } from './agents/agents-plugin.js';
import { type ApiDeps, DEFAULT_BATCH_BODY_LIMIT_BYTES, DEFAULT_BODY_LIMIT_BYTES } from './api-deps.js';
import { authPlugin } from './auth/auth-plugin.js';
import { boardPlugin } from './board-plugin.js';
import { chatsPlugin } from './chats/chats-plugin.js';
import { closeConnectionsOnShutdown } from './close-connections-on-shutdown.js';
import { docsPlugin } from './docs-plugin.js';
import { handleError } from './error-handler.js';
import { ApiError } from './errors.js';
import { eventsPlugin } from './events/events-plugin.js';
import { healthPlugin } from './health-plugin.js';
import { metricsPlugin } from './metrics-plugin.js';
import { stepsPlugin } from './steps/steps-plugin.js';
import './route-config.js';

/** On close, how long requests in flight get before every connection left is dropped, ms. */
export const CLOSE_GRACE_MS = 5000;

/**
 * Builds the Sandfleet HTTP API on `deps`: pure wiring of one plugin per resource (auth, docs,
 * health, metrics, steps, agents, chats, events, board) and the one error handler. Opens no connection and does
 * not listen; the caller owns `deps` and closes them after `app.close()`.
 *
 * Route schemas document the API (OpenAPI at `/docs/json`); requests are validated with the
 * contracts' zod schemas inside the handlers, so every refusal has the same error shape.
 * Plugins load on `app.ready()`/`listen()`; a missing token then fails with `INVALID_CONFIG`.
 */
export function buildApp(deps: ApiDeps): FastifyInstance {
  const metrics = deps.metrics ?? new SandfleetMetrics();
  const trustProxy = deps.trustProxy ?? false;
  const app = Fastify({
    // pino's Logger is a FastifyBaseLogger; typed as such so plugins take the default instance type.
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: deps.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES,
    // The metrics plugin logs one line per answered request instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: () => randomUUID(),
    // A hop count as the function Fastify's types take (they leave out its numeric form).
    trustProxy:
      typeof trustProxy === 'number' ? (_address: string, hop: number) => hop < trustProxy : trustProxy,
  });
  app.setValidatorCompiler(() => (value) => ({ value }));
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  app.setErrorHandler(handleError);
  app.setNotFoundHandler((request) => {
    const path = request.url.split('?')[0]?.slice(0, 200);
    throw new ApiError('NOT_FOUND', `no route ${request.method} ${path}`);
  });
  closeConnectionsOnShutdown(app, CLOSE_GRACE_MS);
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id).header('x-content-type-options', 'nosniff');
  });
  app.register(authPlugin, { auth: deps.auth });
  app.register(docsPlugin);
  app.register(metricsPlugin, { metrics, db: deps.db, queue: deps.queue });
  app.register(healthPlugin, {
    db: deps.db,
    pingRedis: deps.pingRedis,
    ...(deps.pingPostgres ? { pingPostgres: deps.pingPostgres } : {}),
  });
  const quotas = deps.quotas ?? new TokenQuotas();
  app.register(stepsPlugin, {
    db: deps.db,
    queue: deps.queue,
    canceller: deps.canceller,
    quotas,
    batch: {
      maxSteps: deps.batchMaxSteps ?? DEFAULT_BATCH_MAX_STEPS,
      bodyLimitBytes: deps.batchBodyLimitBytes ?? DEFAULT_BATCH_BODY_LIMIT_BYTES,
    },
  });
  app.register(agentsPlugin, { warmHints: deps.warmHints });
  app.register(chatsPlugin, { db: deps.db, queue: deps.queue, quotas });
  app.register(eventsPlugin, {
    db: deps.db,
    queue: deps.queue,
    subscriber: deps.subscriber,
    heartbeatMs: deps.heartbeatMs,
    sseLimits: deps.sseLimits,
  });
  app.register(boardPlugin, { queue: deps.queue.queue });
  return app;
}
