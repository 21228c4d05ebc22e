import {
  CancelResultView,
  ChatMessageList,
  EnqueueResultView,
  ErrorBody,
  httpJsonSchema,
  LivenessView,
  ReadinessView,
  StepBatchResult,
  StepListPage,
  StepView,
  stepSpecJsonSchema,
  WarmHintAcceptedView,
  WarmHintBody,
} from '@sandfleet/contracts';

// JSON Schemas (OpenAPI 3.1 = draft 2020-12) of what the API takes and answers, generated from the
// zod schemas of `@sandfleet/contracts`. They document the routes; zod is what validates, so they
// never refuse a request themselves, and answers are serialized as they are (JSON.stringify).

/** StepSpec v1 as producers write it, generated from the contract's zod schema. */
export function stepSpecBodySchema(): Record<string, unknown> {
  const { $schema: _schema, $id: _id, ...schema } = stepSpecJsonSchema();
  return { ...schema, description: 'StepSpec v1 (see the committed step-spec.v1.json)' };
}

/** `POST /v1/steps/batch` body: up to `maxSteps` StepSpecs, each validated on its own. */
export function stepBatchBodySchema(maxSteps: number): Record<string, unknown> {
  return {
    type: 'object',
    properties: { steps: { type: 'array', minItems: 1, maxItems: maxSteps, items: stepSpecBodySchema() } },
    required: ['steps'],
    additionalProperties: false,
    description: `{ "steps": [StepSpec, …] }, 1 to ${maxSteps} steps (SANDFLEET_API_BATCH_MAX_STEPS)`,
  };
}

/** `POST /v1/steps/batch` answer. */
export const stepBatchResultSchema = httpJsonSchema(StepBatchResult, 'one result per item, in order');

/** `GET /v1/steps/{id}` answer: a whole step row. */
export const stepRecordSchema = httpJsonSchema(StepView, 'the step');

/** `GET /v1/steps` answer. */
export const stepPageSchema = httpJsonSchema(StepListPage, 'a page of steps, newest first');

/** `POST /v1/steps` and `POST /v1/chats/{sessionId}/messages` answer. */
export const enqueueResultSchema = httpJsonSchema(EnqueueResultView, 'accepted');

/** `POST /v1/steps/{id}/cancel` answer. */
export const cancelResultSchema = httpJsonSchema(CancelResultView, 'cancel requested');

/** `POST /v1/agents/{agentId}/warm` body (optional). */
export const warmHintBodySchema = httpJsonSchema(WarmHintBody, '{ image? }: the image of the next step');

/** `POST /v1/agents/{agentId}/warm` answer. */
export const warmHintAcceptedSchema = httpJsonSchema(WarmHintAcceptedView, 'warm hint queued');

/** `GET /v1/chats/{sessionId}/messages` answer. */
export const chatMessageListSchema = httpJsonSchema(ChatMessageList, "the session's messages, oldest first");

/** `GET /healthz` answer. */
export const livenessSchema = httpJsonSchema(LivenessView, 'the process is up');

/** `GET /readyz` answer. */
export const readinessSchema = httpJsonSchema(ReadinessView, 'Redis and PostgreSQL answer');

/** Every error answer. */
export const errorSchema = httpJsonSchema(ErrorBody, 'error');

/** Responses every authenticated route may give. */
export const commonErrors = {
  401: { ...errorSchema, description: 'no valid token' },
  503: { ...errorSchema, description: 'Redis or PostgreSQL unavailable; retry' },
} as const;

/** `{ id }` path parameter of a step. */
export const stepIdParams = {
  type: 'object',
  properties: { id: { type: 'string', description: 'step id' } },
  required: ['id'],
} as const;

/** `{ agentId }` path parameter of an agent. */
export const agentIdParams = {
  type: 'object',
  properties: { agentId: { type: 'string', description: 'agent id, as StepSpec.agentId' } },
  required: ['agentId'],
} as const;
