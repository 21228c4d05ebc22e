import { isTerminalStatus, type StepEvent } from '@sandfleet/contracts';
import type { StepRepository } from '@sandfleet/db';
import type { StepQueue } from '@sandfleet/queue';
import type { EventSubscriber } from '@sandfleet/stream';
import { stepNotFound } from './errors.js';
import { assertStepVisible, type Principal } from './step-scope.js';

/**
 * How long following an already finished step waits for its `finished` event: the row turns
 * terminal a moment before the event is published. After that (its events expired) it ends.
 */
export const FINISHED_GRACE_MS = 5000;

/** Dependencies of {@link followStep}. */
export interface FollowStepDeps {
  steps: Pick<StepRepository, 'get'>;
  queue: Pick<StepQueue, 'jobState'>;
  subscriber: Pick<EventSubscriber, 'follow'>;
}

/** Options of {@link followStep}. */
export interface FollowStepOptions {
  /** Yield only events with a greater seq (a `Last-Event-ID`). @defaultValue 0 */
  afterSeq?: number;
  /** Ends the events (without an error) when aborted. */
  signal?: AbortSignal;
  /** @defaultValue {@link FINISHED_GRACE_MS} */
  finishedGraceMs?: number;
  /** Who follows: another agent's step is `FORBIDDEN` (a job with no row yet is, to a scoped token). */
  principal?: Principal;
}

/**
 * Follows a step: checks that it exists, then returns its events, replayed after `afterSeq` and
 * then live, ending after `finished`. For a step already terminal the events end after
 * `finishedGraceMs` at the latest, so an expired stream does not wait forever.
 * @throws StepsError `STEP_NOT_FOUND` (before any event) when neither a row nor a job has the id.
 */
export async function followStep(
  deps: FollowStepDeps,
  stepId: string,
  options: FollowStepOptions = {},
): Promise<AsyncGenerator<StepEvent, void, undefined>> {
  const row = await deps.steps.get(stepId);
  // A step enqueued by a plain BullMQ producer has a job but no row until a worker takes it.
  if (!row && (await deps.queue.jobState(stepId)) === 'unknown') throw stepNotFound(stepId);
  assertStepVisible(options.principal, row?.agentId);
  const signals = options.signal ? [options.signal] : [];
  if (row && isTerminalStatus(row.status))
    signals.push(AbortSignal.timeout(options.finishedGraceMs ?? FINISHED_GRACE_MS));
  const signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0];
  return deps.subscriber.follow(stepId, { afterSeq: options.afterSeq ?? 0, signal });
}
