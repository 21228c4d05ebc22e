import * as z from 'zod';
import { type SandfleetError, ValidationError } from '../errors.js';
import { EnqueueResultView } from './step-answers.js';

/** Default of the most steps one `POST /v1/steps/batch` may hold (`SANDFLEET_API_BATCH_MAX_STEPS`). */
export const DEFAULT_BATCH_MAX_STEPS = 1000;

/**
 * `POST /v1/steps/batch` body: `{ "steps": [StepSpec, …] }`. The items are left unknown here:
 * each is parsed as a StepSpec on its own, so one bad item fails only itself.
 */
export const StepBatchRequest = z.strictObject({
  steps: z
    .array(z.unknown(), {
      // A missing `steps` keeps the parse's own "is required".
      error: (issue) => (issue.input === undefined ? undefined : 'must be an array of StepSpecs'),
    })
    .min(1, 'must hold at least one step'),
});
export type StepBatchRequest = z.infer<typeof StepBatchRequest>;

/** An item of a batch that was not enqueued: a stable code and a message naming its index and field. */
export const StepBatchItemError = z.object({
  error: z.object({
    /** `VALIDATION_FAILED`, `FORBIDDEN`, `CHAT_SESSION_CONFLICT` or `RATE_LIMITED`. */
    code: z.string().meta({ description: 'stable code, e.g. VALIDATION_FAILED, FORBIDDEN' }),
    /** Names the item and its field: `steps[3].agentId: is required`. */
    message: z.string().meta({ description: 'names the item and its field: steps[3].agentId: is required' }),
  }),
});
export type StepBatchItemError = z.infer<typeof StepBatchItemError>;

/** The outcome of one item: enqueued (`created: false` for an id seen before) or refused. */
export const StepBatchItemResult = z.union([EnqueueResultView, StepBatchItemError]);
export type StepBatchItemResult = z.infer<typeof StepBatchItemResult>;

/** `POST /v1/steps/batch` answer: one result per item of the request, in its order. */
export const StepBatchResult = z.object({ results: z.array(StepBatchItemResult) });
export type StepBatchResult = z.infer<typeof StepBatchResult>;

/**
 * The result of batch item `index` refused with `error`, its message naming the item and the
 * field: each issue of a {@link ValidationError} (`steps[3].agentId: is required; steps[3].command:
 * …`), the field an error's `context.field` names and its message starts with
 * (`steps[2].agentId: not allowed for token team-a`), else the item alone (`steps[4]: …`).
 */
export function stepBatchItemError(index: number, error: SandfleetError): StepBatchItemError {
  const item = `steps[${index}]`;
  const field = error.context.field;
  const message =
    error instanceof ValidationError
      ? error.issues
          .map((issue) => `${item}${issue.path ? `.${issue.path}` : ''}: ${issue.message}`)
          .join('; ')
      : typeof field === 'string' && error.message.startsWith(`${field}: `)
        ? `${item}.${error.message}`
        : `${item}: ${error.message}`;
  return { error: { code: error.code, message } };
}
