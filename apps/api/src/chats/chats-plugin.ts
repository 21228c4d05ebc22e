import { ID_PATTERN, parseOrThrow } from '@sandfleet/contracts';
import { enqueueStep, listChatMessages, type TokenQuotas } from '@sandfleet/steps';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { ApiDeps } from '../api-deps.js';
import { chatMessageListSchema, commonErrors, enqueueResultSchema, errorSchema } from '../openapi-schemas.js';
import { withRetryAfter } from '../steps/retry-after.js';

/** Options of {@link chatsPlugin}. */
export type ChatsPluginOptions = Pick<ApiDeps, 'db' | 'queue'> & { quotas: TokenQuotas };

const TAGS = ['chats'];

const SessionParams = z.object({
  sessionId: z.string().regex(ID_PATTERN, { error: `must match ${ID_PATTERN.source}` }),
});

/** A user message: `content` plus any StepSpec fields but those the chat sets itself. */
const ChatMessageBody = z
  .looseObject({ content: z.string().min(1, { error: 'must not be empty' }) })
  .superRefine((body, ctx) => {
    for (const field of ['kind', 'chatSessionId', 'input'] as const) {
      if (field in body)
        ctx.addIssue({ code: 'custom', path: [field], message: 'is set by the chat session' });
    }
  });

const sessionParamsSchema = {
  type: 'object',
  properties: { sessionId: { type: 'string', description: 'chat session id' } },
  required: ['sessionId'],
} as const;

/**
 * `/v1/chats/{sessionId}/messages`: a user message enqueues a `kind: chat` step of the session
 * (its `input` is the message); the step's reply is recorded as the assistant message. GET lists
 * the session's messages oldest first. A session belongs to the agent that started it: another
 * agent's message gets 409 `CHAT_SESSION_CONFLICT`, a token not scoped to the owner 403.
 */
export async function chatsPlugin(app: FastifyInstance, deps: ChatsPluginOptions): Promise<void> {
  app.post(
    '/v1/chats/:sessionId/messages',
    {
      schema: {
        summary: 'Send a user message to a chat session',
        description:
          'Body: `content` (the message) and the StepSpec fields of the step that answers it (`agentId`, ' +
          '`command`, `image`, …). Returns the id of that step; follow it with `/v1/steps/{id}/events`.',
        tags: TAGS,
        params: sessionParamsSchema,
        body: { type: 'object', required: ['content', 'agentId', 'command'], additionalProperties: true },
        response: {
          202: { description: 'accepted', ...enqueueResultSchema },
          400: errorSchema,
          403: errorSchema,
          409: { ...errorSchema, description: 'the session belongs to another agent' },
          429: errorSchema,
          ...commonErrors,
        },
      },
    },
    async (request, reply) => {
      const { sessionId } = parseOrThrow(SessionParams, request.params, 'chat session');
      const { content, ...rest } = parseOrThrow(ChatMessageBody, request.body, 'chat message');
      const { principal } = request;
      const tenancy = { steps: deps.db.steps, chats: deps.db.chats, quotas: deps.quotas };
      const spec = { ...rest, kind: 'chat', chatSessionId: sessionId, input: content };
      const result = await withRetryAfter(reply, () =>
        enqueueStep({ queue: deps.queue, tenancy }, spec, principal ? { principal } : {}),
      );
      return reply.status(202).send(result);
    },
  );

  app.get(
    '/v1/chats/:sessionId/messages',
    {
      schema: {
        summary: "A chat session's messages, oldest first",
        tags: TAGS,
        params: sessionParamsSchema,
        response: {
          200: chatMessageListSchema,
          403: errorSchema,
          ...commonErrors,
        },
      },
    },
    async (request) => {
      const { sessionId } = parseOrThrow(SessionParams, request.params, 'chat session');
      const turns = await listChatMessages(deps.db, sessionId, request.principal);
      return {
        items: turns.map((turn) => ({
          role: turn.role,
          content: turn.content,
          stepId: turn.stepId,
          agentId: turn.agentId,
          createdAt: turn.createdAt.toISOString(),
        })),
      };
    },
  );
}
