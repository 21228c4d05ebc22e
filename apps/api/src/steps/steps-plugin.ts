import { enqueueStep, enqueueSteps, getStep, listSteps, type TokenQuotas } from '@sandfleet/steps';
import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from '../api-deps.js';
import {
  cancelResultSchema,
  commonErrors,
  enqueueResultSchema,
  errorSchema,
  stepBatchBodySchema,
  stepBatchResultSchema,
  stepIdParams,
  stepPageSchema,
  stepRecordSchema,
  stepSpecBodySchema,
} from '../openapi-schemas.js';
import { IDEMPOTENCY_KEY_HEADER, idempotencyKey } from './idempotency-key.js';
import { withRetryAfter } from './retry-after.js';
import { parseStepListQuery } from './step-list-query.js';

/** Limits of `POST /v1/steps/batch`. */
export interface StepBatchLimits {
  /** Most steps in one batch (`SANDFLEET_API_BATCH_MAX_STEPS`). */
  maxSteps: number;
  /** Largest body, bytes (`SANDFLEET_API_BATCH_BODY_LIMIT_BYTES`). */
  bodyLimitBytes: number;
}

/** Options of {@link stepsPlugin}. */
export type StepsPluginOptions = Pick<ApiDeps, 'db' | 'queue' | 'canceller'> & {
  quotas: TokenQuotas;
  batch: StepBatchLimits;
};

const TAGS = ['steps'];

/**
 * `/v1/steps`: enqueue one (idempotent by spec id or `Idempotency-Key`) or a batch (`/batch`,
 * each item idempotent by its id), list with filters and
 * cursor pagination, read one, cancel. Bodies and queries are validated with the contracts' zod
 * schemas; failures are `VALIDATION_FAILED` naming each bad field. Each use case gets the request's
 * principal: outside its scope is 403 `FORBIDDEN`, past its quotas 429 `RATE_LIMITED`.
 */
export async function stepsPlugin(app: FastifyInstance, deps: StepsPluginOptions): Promise<void> {
  app.post(
    '/v1/steps',
    {
      schema: {
        summary: 'Enqueue a step',
        description:
          'Validates a StepSpec v1, records it as queued and adds the job. The same `id` (or, for a spec ' +
          'without one, the same `Idempotency-Key`) twice is one step.',
        tags: TAGS,
        headers: {
          type: 'object',
          properties: {
            [IDEMPOTENCY_KEY_HEADER]: { type: 'string', description: 'retry-safe key, 1–255 characters' },
          },
        },
        body: stepSpecBodySchema(),
        response: {
          202: { description: 'accepted', ...enqueueResultSchema },
          400: { ...errorSchema, description: 'invalid spec; `issues` names each field' },
          403: {
            ...errorSchema,
            description: 'agent, secret, image or chat session outside the token’s scope',
          },
          409: { ...errorSchema, description: 'the chat session belongs to another agent' },
          413: { ...errorSchema, description: 'body over the size limit' },
          429: { ...errorSchema, description: 'past one of the token’s quotas; see `Retry-After`' },
          ...commonErrors,
        },
      },
    },
    async (request, reply) => {
      const key = idempotencyKey(request.headers[IDEMPOTENCY_KEY_HEADER]);
      const { principal } = request;
      const tenancy = { steps: deps.db.steps, chats: deps.db.chats, quotas: deps.quotas };
      const { id, created } = await withRetryAfter(reply, () =>
        enqueueStep({ queue: deps.queue, tenancy }, request.body, {
          idempotencyKey: key,
          ...(principal ? { principal } : {}),
        }),
      );
      return reply
        .status(202)
        .header('location', `/v1/steps/${encodeURIComponent(id)}`)
        .send({ id, created });
    },
  );

  app.post(
    '/v1/steps/batch',
    {
      bodyLimit: deps.batch.bodyLimitBytes,
      schema: {
        summary: 'Enqueue a batch of steps',
        description:
          `Enqueues up to ${deps.batch.maxSteps} StepSpecs (SANDFLEET_API_BATCH_MAX_STEPS) and answers one ` +
          'result per item, in order: `{ id, created }`, or `{ error: { code, message } }` whose message ' +
          'names the item and field (`steps[3].agentId: is required`). Each item is checked and refused ' +
          'on its own (VALIDATION_FAILED, FORBIDDEN, CHAT_SESSION_CONFLICT, RATE_LIMITED) and is idempotent ' +
          'by its `id`; an id given twice is one step (later items: `created: false`). The rows are ' +
          'inserted in one transaction, the jobs added in one bulk.',
        tags: TAGS,
        body: stepBatchBodySchema(deps.batch.maxSteps),
        response: {
          200: stepBatchResultSchema,
          400: { ...errorSchema, description: 'not a batch, or more steps than allowed' },
          413: { ...errorSchema, description: 'body over SANDFLEET_API_BATCH_BODY_LIMIT_BYTES' },
          ...commonErrors,
        },
      },
    },
    async (request) => {
      const { principal } = request;
      const tenancy = { steps: deps.db.steps, chats: deps.db.chats, quotas: deps.quotas };
      const results = await enqueueSteps({ queue: deps.queue, tenancy }, request.body, {
        maxSteps: deps.batch.maxSteps,
        ...(principal ? { principal } : {}),
      });
      return { results };
    },
  );

  app.get(
    '/v1/steps',
    {
      schema: {
        summary: 'List steps, newest first',
        tags: TAGS,
        querystring: {
          type: 'object',
          properties: {
            status: { type: 'string', description: 'one step status' },
            agentId: { type: 'string' },
            runId: { type: 'string' },
            label: { type: 'string', description: '`key:value`' },
            createdAfter: { type: 'string', format: 'date-time' },
            createdBefore: { type: 'string', format: 'date-time' },
            limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
            cursor: { type: 'string', description: '`nextCursor` of the previous page' },
          },
        },
        response: { 200: stepPageSchema, 400: errorSchema, ...commonErrors },
      },
    },
    async (request) => {
      return listSteps(
        deps.db,
        parseStepListQuery(request.query as Record<string, unknown>),
        request.principal,
      );
    },
  );

  app.get(
    '/v1/steps/:id',
    {
      schema: {
        summary: 'Read one step',
        tags: TAGS,
        params: stepIdParams,
        response: { 200: stepRecordSchema, 403: errorSchema, 404: errorSchema, ...commonErrors },
      },
    },
    async (request) => {
      const { id } = request.params as { id: string };
      return getStep(deps.db, id, request.principal);
    },
  );

  app.post(
    '/v1/steps/:id/cancel',
    {
      schema: {
        summary: 'Cancel a step',
        description:
          'A queued step ends `cancelled` at once; a running one is stopped by its worker. Cancelling a ' +
          'finished step changes nothing (`accepted: false`).',
        tags: TAGS,
        params: stepIdParams,
        response: { 202: cancelResultSchema, 404: errorSchema, ...commonErrors },
      },
    },
    async (request, reply) => {
      const { id } = request.params as { id: string };
      return reply.status(202).send(await deps.canceller.cancel(id, request.principal));
    },
  );
}
