import { warmAgent } from '@sandfleet/steps';
import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from '../api-deps.js';
import {
  agentIdParams,
  commonErrors,
  errorSchema,
  warmHintAcceptedSchema,
  warmHintBodySchema,
} from '../openapi-schemas.js';

/** Options of {@link agentsPlugin}. */
export type AgentsPluginOptions = Pick<ApiDeps, 'warmHints'>;

const TAGS = ['agents'];

/**
 * `/v1/agents/{agentId}`: `POST …/warm` asks the fleet to pre-start a container for the agent's
 * next step (a warm hint). The agent id and the body are validated as a StepSpec's and checked
 * against the token's scope as a step's: outside it is 403 `FORBIDDEN`.
 */
export async function agentsPlugin(app: FastifyInstance, deps: AgentsPluginOptions): Promise<void> {
  // The body may be left out, also by a client that sends `content-type: application/json` and no
  // body (`curl -X POST -H …`): Fastify's JSON parser refuses that, this scope's takes it as none.
  const json = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) =>
    body === '' ? done(null, undefined) : json(request, body as string, done),
  );
  app.post(
    '/v1/agents/:agentId/warm',
    {
      schema: {
        summary: "Warm a container for an agent's next step",
        description:
          'Queues a warm hint: a worker pre-starts a single-use container for the agent, as its next step ' +
          'naming `image` (or the worker’s default image) and no other setting would run, so that step starts ' +
          'without creating one. Advice only: nothing is warmed when the worker keeps no warm pool, the image ' +
          'does not run the agent runtime or the next step asks for other settings. The body may be left out; ' +
          'hints for one agent within a few seconds are one.',
        tags: TAGS,
        params: agentIdParams,
        body: warmHintBodySchema,
        response: {
          202: { description: 'accepted', ...warmHintAcceptedSchema },
          400: { ...errorSchema, description: 'invalid agent id or body; `issues` names each field' },
          403: { ...errorSchema, description: 'agent or image outside the token’s scope' },
          ...commonErrors,
        },
      },
    },
    async (request, reply) => {
      const { agentId } = request.params as { agentId: string };
      const { principal } = request;
      const accepted = await warmAgent(
        { hints: deps.warmHints },
        agentId,
        request.body,
        principal ? { principal } : {},
      );
      return reply.status(202).send(accepted);
    },
  );
}
