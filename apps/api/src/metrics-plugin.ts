import type { SandfleetMetrics } from '@sandfleet/metrics';
import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from './api-deps.js';

/** Options of {@link metricsPlugin}. */
export interface MetricsPluginOptions extends Pick<ApiDeps, 'db' | 'queue'> {
  metrics: SandfleetMetrics;
}

// Probes and scrapes arrive every few seconds: logged at debug so they do not drown the rest.
const QUIET_ROUTES = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * `GET /metrics` (Prometheus text): queue depth and steps by status, read at each scrape, and the
 * API's HTTP request counts and durations by route template. Also logs every answered request.
 * Applies to the whole app (not encapsulated) so its hook sees every route.
 */
export async function metricsPlugin(app: FastifyInstance, options: MetricsPluginOptions): Promise<void> {
  const { metrics, db, queue } = options;
  metrics.collectQueueDepth(() => queue.counts());
  metrics.collectStepStatuses(() => db.steps.countByStatus());

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.observeHttpRequest({
      method: request.method,
      route,
      statusCode: reply.statusCode,
      durationSeconds: reply.elapsedTime / 1000,
      tokenName: request.principal?.name,
    });
    const line = {
      method: request.method,
      route,
      statusCode: reply.statusCode,
      ms: Math.round(reply.elapsedTime),
    };
    if (QUIET_ROUTES.has(route)) request.log.debug(line, 'request answered');
    else request.log.info(line, 'request answered');
  });

  app.get(
    '/metrics',
    {
      schema: {
        summary: 'Prometheus metrics',
        tags: ['metrics'],
        response: {
          200: {
            description: 'Prometheus text format 0.0.4',
            content: { 'text/plain': { schema: { type: 'string' } } },
          },
        },
      },
    },
    async (_request, reply) => reply.type(metrics.contentType).send(await metrics.render()),
  );
}

Object.assign(metricsPlugin, { [Symbol.for('skip-override')]: true });
