import type { CheckResult } from '@sandfleet/contracts';
import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from './api-deps.js';
import { ApiError } from './errors.js';
import { errorSchema, livenessSchema, readinessSchema } from './openapi-schemas.js';
import { PUBLIC_ROUTE } from './route-config.js';

/** Options of {@link healthPlugin}. */
export type HealthPluginOptions = Pick<ApiDeps, 'db' | 'pingRedis'>;

/** Longest a readiness check waits for Redis or PostgreSQL, ms. */
export const READY_CHECK_TIMEOUT_MS = 2000;

async function check(probe: () => Promise<unknown>): Promise<CheckResult> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timed out')), READY_CHECK_TIMEOUT_MS);
  });
  try {
    await Promise.race([probe(), timeout]);
    return 'ok';
  } catch {
    return 'unreachable';
  } finally {
    clearTimeout(timer);
  }
}

/**
 * `GET /healthz` (the process answers) and `GET /readyz` (Redis and PostgreSQL answer within
 * {@link READY_CHECK_TIMEOUT_MS}; 503 `NOT_READY` naming which did not). Both are open.
 */
export async function healthPlugin(app: FastifyInstance, deps: HealthPluginOptions): Promise<void> {
  app.get(
    '/healthz',
    {
      config: PUBLIC_ROUTE,
      schema: {
        summary: 'Liveness: the process is up',
        tags: ['health'],
        security: [],
        response: { 200: livenessSchema },
      },
    },
    async () => ({ status: 'ok' }),
  );

  app.get(
    '/readyz',
    {
      config: PUBLIC_ROUTE,
      schema: {
        summary: 'Readiness: Redis and PostgreSQL answer',
        tags: ['health'],
        security: [],
        response: {
          200: readinessSchema,
          503: { ...errorSchema, description: '`error.details.checks` names what failed' },
        },
      },
    },
    async () => {
      const [redis, postgres] = await Promise.all([check(deps.pingRedis), check(() => deps.db.ping())]);
      const checks = { redis, postgres };
      const failed = Object.entries(checks)
        .filter(([, result]) => result !== 'ok')
        .map(([name]) => name);
      if (failed.length > 0) {
        throw new ApiError('NOT_READY', `not ready: ${failed.join(' and ')} unreachable`, {
          details: { checks },
        });
      }
      return { status: 'ok', checks };
    },
  );
}
