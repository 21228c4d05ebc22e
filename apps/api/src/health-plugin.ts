import type { CheckResult } from '@sandfleet/contracts';
import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from './api-deps.js';
import { ApiError } from './errors.js';
import { errorSchema, livenessSchema, readinessSchema } from './openapi-schemas.js';
import { PUBLIC_ROUTE } from './route-config.js';

/** Options of {@link healthPlugin}. */
export type HealthPluginOptions = Pick<ApiDeps, 'db' | 'pingRedis' | 'pingPostgres'>;

/** Longest a readiness check waits for Redis or PostgreSQL, ms. */
export const READY_CHECK_TIMEOUT_MS = 2000;

/** The deadline is counted in ticks of this many ms of the event loop's own time. */
const TICK_MS = 100;

/**
 * Whether `probe` resolves within {@link READY_CHECK_TIMEOUT_MS}. The deadline measures the
 * dependency, not the event loop: it runs in ticks, and a tick the loop ran late still counts
 * {@link TICK_MS}, so a loop held up by other work (hundreds of event streams replaying) does not
 * turn a dependency that answered into an `unreachable` one. Each tick also lets the I/O poll run
 * first (`setImmediate`), for an answer that had already arrived.
 */
function check(probe: () => Promise<unknown>): Promise<CheckResult> {
  return new Promise<CheckResult>((resolve) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const settle = (result: CheckResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    let ticks = Math.ceil(READY_CHECK_TIMEOUT_MS / TICK_MS);
    const tick = () => {
      ticks -= 1;
      if (ticks <= 0) setImmediate(() => settle('unreachable'));
      else timer = setTimeout(tick, TICK_MS);
    };
    timer = setTimeout(tick, TICK_MS);
    probe().then(
      () => settle('ok'),
      () => settle('unreachable'),
    );
  });
}

/**
 * `GET /healthz` (the process answers) and `GET /readyz` (Redis and PostgreSQL answer within
 * {@link READY_CHECK_TIMEOUT_MS}; 503 `NOT_READY` naming which did not). Both are open.
 * `startApi` gives the checks connections of their own, so neither waits behind event streams'
 * Redis replies or a pool busy with requests.
 */
export async function healthPlugin(app: FastifyInstance, deps: HealthPluginOptions): Promise<void> {
  const pingPostgres = deps.pingPostgres ?? (() => deps.db.ping());
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
      const [redis, postgres] = await Promise.all([check(deps.pingRedis), check(pingPostgres)]);
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
