import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';

/** Where the docs are served: the UI at `/docs`, the OpenAPI document at `/docs/json`. */
export const DOCS_PREFIX = '/docs';

/**
 * The OpenAPI 3.1 document of the API, built from the route schemas, which are the contracts'
 * zod schemas as JSON Schema (the StepSpec body, every answer and the error body), and Swagger UI served from the package's own assets
 * with a strict CSP (no CDN). Untagged routes (Bull Board, login) are left out.
 * Applies to the whole app (not encapsulated) so it sees the routes registered after it.
 */
export async function docsPlugin(app: FastifyInstance): Promise<void> {
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Sandfleet API',
        version: '1',
        description:
          'Enqueue, list, follow and cancel Sandfleet steps. Every route but /healthz and /readyz needs ' +
          '`Authorization: Bearer <token>`. Errors are `{ "error": { "code", "message" } }`.',
      },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearerAuth: [] }],
      tags: [
        { name: 'steps', description: 'StepSpec v1 steps' },
        { name: 'agents', description: 'warm hints for an agent’s next step' },
        { name: 'health', description: 'liveness and readiness (no token needed)' },
        { name: 'metrics', description: 'Prometheus' },
      ],
    },
    hideUntagged: true,
  });
  await app.register(fastifySwaggerUi, {
    routePrefix: DOCS_PREFIX,
    staticCSP: true,
    // The API is often served over plain HTTP (localhost, compose); upgrading its requests breaks them.
    transformStaticCSP: (header) => header.replace(/\s*upgrade-insecure-requests;?/, ''),
    uiConfig: { deepLinking: false, tryItOutEnabled: false },
  });
}

Object.assign(docsPlugin, { [Symbol.for('skip-override')]: true });
