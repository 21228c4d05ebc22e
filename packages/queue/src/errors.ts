import { SandfleetError, type SandfleetErrorOptions } from '@sandfleet/contracts';

export type QueueErrorCode =
  | 'QUEUE_UNAVAILABLE'
  | 'ENQUEUE_FAILED'
  | 'QUEUE_FULL'
  | 'STEP_ID_MISMATCH'
  | 'JOB_DATA_REJECTED';

/** A failure talking to the steps queue. */
export class QueueError extends SandfleetError {
  declare readonly code: QueueErrorCode;

  constructor(code: QueueErrorCode, message: string, options?: SandfleetErrorOptions) {
    super(code, message, options);
  }
}

/**
 * Thrown by a step handler to give the job back to the queue without spending an attempt
 * (the worker is shutting down and stopped the step); another worker picks it up.
 */
export class HandBackError extends SandfleetError {
  constructor(stepId: string) {
    super('STEP_HANDED_BACK', `step ${stepId} was handed back to the queue`, {
      retryable: true,
      context: { stepId },
    });
  }
}

/**
 * Thrown by a step handler to run the job later without spending an attempt (its agent is busy
 * with another step); the job waits `delayMs` in the delayed set.
 */
export class DeferError extends SandfleetError {
  readonly delayMs: number;

  constructor(stepId: string, delayMs: number, reason: string) {
    super('STEP_DEFERRED', `step ${stepId} deferred: ${reason}`, { retryable: true, context: { stepId } });
    this.delayMs = delayMs;
  }
}
