import { type ErrorContext, SandfleetError } from '@sandfleet/contracts';

/**
 * Stable codes of {@link StreamError}; callers branch on these, never on message text.
 *
 * - `STREAM_OPTIONS_INVALID`: an option is out of range (a programming error).
 * - `STREAM_WRITE_FAILED`: a batch of events could not be written to Redis (retryable).
 * - `STREAM_READ_FAILED`: replaying events from Redis failed (retryable).
 * - `STREAM_EVENT_INVALID`: an entry of a step's event stream is not a valid `StepEvent`.
 * - `STREAM_PUBLISHER_CLOSED`: a publisher was used after `finished()` or `close()`.
 * - `STREAM_SUBSCRIBE_FAILED`: subscribing to a pub/sub channel failed (retryable).
 * - `STREAM_SUBSCRIBER_CLOSED`: an `EventSubscriber` or `CancelBus` was used after `close()`.
 * - `STREAM_ATTEMPT_FENCED`: a publisher of an older attempt (or any, after `finished`) tried to
 *   publish: another attempt owns the step's events now.
 */
export type StreamErrorCode =
  | 'STREAM_OPTIONS_INVALID'
  | 'STREAM_WRITE_FAILED'
  | 'STREAM_READ_FAILED'
  | 'STREAM_EVENT_INVALID'
  | 'STREAM_PUBLISHER_CLOSED'
  | 'STREAM_SUBSCRIBE_FAILED'
  | 'STREAM_SUBSCRIBER_CLOSED'
  | 'STREAM_ATTEMPT_FENCED';

const RETRYABLE: Readonly<Record<StreamErrorCode, boolean>> = {
  STREAM_OPTIONS_INVALID: false,
  STREAM_WRITE_FAILED: true,
  STREAM_READ_FAILED: true,
  STREAM_EVENT_INVALID: false,
  STREAM_PUBLISHER_CLOSED: false,
  STREAM_SUBSCRIBE_FAILED: true,
  STREAM_SUBSCRIBER_CLOSED: false,
  STREAM_ATTEMPT_FENCED: false,
};

/** Options of {@link StreamError}. */
export interface StreamErrorOptions {
  /** The underlying error (usually an ioredis error). */
  cause?: unknown;
  /** Ids of what the error concerns, e.g. `{ stepId }`. */
  context?: ErrorContext;
}

/**
 * Every error `@sandfleet/stream` throws on purpose. `retryable` follows from the code: Redis
 * failures are retryable, misuse and corrupt data are not.
 */
export class StreamError extends SandfleetError {
  declare readonly code: StreamErrorCode;

  constructor(code: StreamErrorCode, message: string, options: StreamErrorOptions = {}) {
    super(code, message, { ...options, retryable: RETRYABLE[code] });
  }
}

/** Throws `STREAM_OPTIONS_INVALID` unless `value` is an integer within `[min, max]`. */
export function assertIntOption(
  name: string,
  value: number,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new StreamError(
      'STREAM_OPTIONS_INVALID',
      `${name} must be an integer in [${min}, ${max}], got ${value}`,
    );
  }
}
