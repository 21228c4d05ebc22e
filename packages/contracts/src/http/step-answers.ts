import * as z from 'zod';
import { StepStatus } from '../step-status.js';

/** `POST /v1/steps` and `POST /v1/chats/{sessionId}/messages`: the step that was enqueued. */
export const EnqueueResultView = z.object({
  /** The step id: the spec's `id`, one derived from the idempotency key, or a generated UUID. */
  id: z.string(),
  /** False when a step with this id had been enqueued before (nothing new was enqueued). */
  created: z.boolean().meta({ description: 'false when this id was enqueued before' }),
});
export type EnqueueResultView = z.infer<typeof EnqueueResultView>;

/** `POST /v1/steps/{id}/cancel`. */
export const CancelResultView = z.object({
  stepId: z.string(),
  /** Status after the request: `cancelled` when it took effect at once (a queued step). */
  status: StepStatus.meta({ description: 'status after the request: cancelled when it took effect at once' }),
  /** False when the step had already ended. */
  accepted: z.boolean().meta({ description: 'false when the step had already ended' }),
});
export type CancelResultView = z.infer<typeof CancelResultView>;
