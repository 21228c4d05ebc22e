import * as z from 'zod';
import { AgentId, StepImage } from './step-spec.js';

/** BullMQ job name of a warm hint (public contract). */
export const WARM_HINT_JOB_NAME = 'warm-hint';

/** What follows a fleet's steps queue name in the name of its warm-hints queue. */
export const WARM_HINT_QUEUE_SUFFIX = '-warm-hints';

/**
 * The BullMQ queue of a fleet's warm hints: its steps queue's name and
 * {@link WARM_HINT_QUEUE_SUFFIX} (`steps-warm-hints`), under the same prefix, so each fleet (prefix
 * and queue name) has its own and only that fleet's workers take its hints (public contract).
 */
export function warmHintQueueName(stepsQueueName: string): string {
  return `${stepsQueueName}${WARM_HINT_QUEUE_SUFFIX}`;
}

/**
 * `POST /v1/agents/{agentId}/warm` body, which may be left out: the image the agent's next step
 * will name; without it, the worker's default image.
 */
export const WarmHintBody = z.strictObject({ image: StepImage.optional() });
export type WarmHintBody = z.infer<typeof WarmHintBody>;

/**
 * A warm hint: the job data on a fleet's warm-hints queue. A worker taking it pre-starts a
 * container for the agent's next step, as a step of that agent naming `image` (or none) and no
 * other setting would run.
 */
export const WarmHint = z.strictObject({ agentId: AgentId, image: StepImage.optional() });
export type WarmHint = z.infer<typeof WarmHint>;

/** `POST /v1/agents/{agentId}/warm` answer: the hint was queued (or one for the agent just was). */
export const WarmHintAcceptedView = z.object({
  agentId: z.string(),
  accepted: z.literal(true),
});
export type WarmHintAcceptedView = z.infer<typeof WarmHintAcceptedView>;
