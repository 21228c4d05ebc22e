import { StepStatus, stepSpecJsonSchema } from '@sandfleet/contracts';

// JSON Schemas (OpenAPI 3.1 = draft 2020-12) of what the API takes and answers. They document the
// routes; zod in `@sandfleet/contracts` is what validates, so they never refuse a request themselves.

const nullable = (type: string, extra: Record<string, unknown> = {}) => ({ type: [type, 'null'], ...extra });
const time = (description?: string) => nullable('string', { format: 'date-time', description });

/** StepSpec v1 as producers write it, generated from the contract's zod schema. */
export function stepSpecBodySchema(): Record<string, unknown> {
  const { $schema: _schema, $id: _id, ...schema } = stepSpecJsonSchema();
  return { ...schema, description: 'StepSpec v1 (see the committed step-spec.v1.json)' };
}

const statusSchema = { type: 'string', enum: StepStatus.options };

/** A step as listed: the row without output, spec and result. */
export const stepSummarySchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    agentId: { type: 'string' },
    kind: { type: 'string', enum: ['task', 'pipeline', 'pulse', 'chat'] },
    status: statusSchema,
    image: nullable('string'),
    imageId: nullable('string'),
    command: { description: 'argv array or { script, shell }' },
    runId: nullable('string'),
    taskId: nullable('string'),
    chatSessionId: nullable('string'),
    labels: { type: 'object', additionalProperties: { type: 'string' } },
    priority: nullable('integer'),
    attempts: { type: 'integer' },
    maxAttempts: { type: 'integer' },
    workerId: nullable('string'),
    exitCode: nullable('integer'),
    oomKilled: { type: 'boolean' },
    outputBytes: { type: 'integer', description: 'bytes printed, including what the limit dropped' },
    outputTruncated: { type: 'boolean' },
    error: nullable('string'),
    errorCode: nullable('string'),
    cancelRequestedAt: time(),
    createdAt: { type: 'string', format: 'date-time' },
    startedAt: time(),
    finishedAt: time(),
    durationMs: nullable('integer'),
    updatedAt: { type: 'string', format: 'date-time' },
  },
} as const;

/** A whole step row. */
export const stepRecordSchema = {
  type: 'object',
  properties: {
    ...stepSummarySchema.properties,
    output: { type: 'string', description: 'captured output, capped and redacted' },
    spec: { type: 'object', description: 'the StepSpec as stored (file contents left out)' },
    result: { description: 'what the step runtime reported, if anything' },
  },
} as const;

/** `GET /v1/steps` answer. */
export const stepPageSchema = {
  type: 'object',
  properties: {
    items: { type: 'array', items: stepSummarySchema },
    nextCursor: nullable('string', { description: 'pass as `cursor` for the next page; null on the last' }),
  },
} as const;

/** `POST /v1/steps` answer. */
export const enqueueResultSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    created: { type: 'boolean', description: 'false when this id was enqueued before' },
  },
} as const;

/** `POST /v1/steps/{id}/cancel` answer. */
export const cancelResultSchema = {
  type: 'object',
  properties: {
    stepId: { type: 'string' },
    status: {
      ...statusSchema,
      description: 'status after the request: cancelled when it took effect at once',
    },
    accepted: { type: 'boolean', description: 'false when the step had already ended' },
  },
} as const;

/** Every error answer. */
export const errorSchema = {
  description: 'error',
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: {
        code: { type: 'string', description: 'stable code, e.g. VALIDATION_FAILED, STEP_NOT_FOUND' },
        message: { type: 'string' },
        issues: {
          type: 'array',
          items: {
            type: 'object',
            properties: { path: { type: 'string' }, message: { type: 'string' } },
          },
        },
      },
    },
  },
} as const;

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
