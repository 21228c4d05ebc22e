import { createHash } from 'node:crypto';
import type { EnqueueResult, StepQueue } from '@sandfleet/queue';

/** Dependencies of {@link enqueueStep}. */
export interface EnqueueStepDeps {
  queue: Pick<StepQueue, 'enqueue'>;
}

/** Options of {@link enqueueStep}. */
export interface EnqueueStepOptions {
  /**
   * A retry-safe key for a spec without `id`: the same key twice is one step (its id is
   * {@link stepIdForKey}). A spec with an `id` is idempotent by it already.
   */
  idempotencyKey?: string;
}

/**
 * The step id a key stands for when the spec names none: `idem-` and the first 32 hex digits of
 * the key's SHA-256, a valid step id whatever the key, and the same on every retry.
 */
export function stepIdForKey(key: string): string {
  return `idem-${createHash('sha256').update(key, 'utf8').digest('hex').slice(0, 32)}`;
}

/**
 * The body to enqueue: a spec without `id` gets the key's id, so a retried request is the same
 * step; a spec with an `id` keeps it (the id already makes it idempotent).
 */
export function withIdempotentId(spec: unknown, key: string | undefined): unknown {
  if (key === undefined || typeof spec !== 'object' || spec === null || Array.isArray(spec)) return spec;
  if ((spec as { id?: unknown }).id !== undefined) return spec;
  return { ...spec, id: stepIdForKey(key) };
}

/**
 * Validates `spec` as StepSpec v1, records it `queued` and adds its job; idempotent by the
 * spec's id (or `idempotencyKey`).
 * @throws ValidationError `VALIDATION_FAILED` naming every bad field; nothing is written then.
 * @throws QueueError `QUEUE_UNAVAILABLE` / `ENQUEUE_FAILED` (retryable) while Redis is unreachable.
 */
export function enqueueStep(
  deps: EnqueueStepDeps,
  spec: unknown,
  options: EnqueueStepOptions = {},
): Promise<EnqueueResult> {
  return deps.queue.enqueue(withIdempotentId(spec, options.idempotencyKey));
}
