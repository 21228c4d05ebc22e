import { formatIssue, StepEvent, toFieldIssues } from '@sandfleet/contracts';
import type { ReconnectOptions } from './client-options.js';
import { ApiError } from './errors.js';
import { type EventSourceMessage, readSseMessages } from './sse-messages.js';

/** Types of the `StepEvent` contract; events of other (newer) types are skipped. */
const KNOWN_TYPES: ReadonlySet<string> = new Set(StepEvent.options.map((option) => option.shape.type.value));

/** What {@link followStepEvents} needs from the client. */
export interface StepEventStreamOptions {
  stepId: string;
  /** Yield only events with a greater seq. */
  since: number;
  /** Ends the iteration, without an error, when aborted. */
  signal?: AbortSignal;
  /** Opens `GET /v1/steps/{id}/events` resuming after `lastSeq`; throws {@link ApiError}. */
  open(lastSeq: number, signal: AbortSignal): Promise<ReadableStream<Uint8Array>>;
  /** Whether the step has reached a terminal status (asked when a stream ends without `finished`). */
  isTerminal(): Promise<boolean>;
  /** Turns a failure without an answer into `API_UNREACHABLE`. */
  unreachable(cause: unknown): ApiError;
  reconnect: Required<ReconnectOptions>;
  idleTimeoutMs: number;
}

/**
 * The events of a step over SSE, in seq order, each once, ending after `finished`. A connection
 * that drops, answers 502/503/504, goes silent past the idle timeout or ends early is resumed with
 * `Last-Event-ID` = the last seq seen, after a doubling pause; `reconnect.attempts` reconnections
 * in a row without a new event end it with the last error. A stream that ends while the step is
 * already terminal (its events expired) ends the iteration without `finished`.
 * @throws ApiError: the API's own for refusals (`STEP_NOT_FOUND`, `UNAUTHORIZED`…),
 *   `API_UNREACHABLE`, `INVALID_EVENT`, or `EVENT_STREAM_LOST`.
 */
export async function* followStepEvents(
  options: StepEventStreamOptions,
): AsyncGenerator<StepEvent, void, undefined> {
  const { signal, reconnect } = options;
  let last = options.since;
  let failures = 0;
  let lastError: ApiError | undefined;
  for (;;) {
    if (signal?.aborted) return;
    const connection = new AbortController();
    const connectionSignal = signal ? AbortSignal.any([signal, connection.signal]) : connection.signal;
    let idleTimer: ReturnType<typeof setTimeout> | undefined;
    const touch = () => {
      clearTimeout(idleTimer);
      idleTimer = setTimeout(() => connection.abort(), options.idleTimeoutMs);
    };
    let progressed = false;
    try {
      touch();
      const body = await options.open(last, connectionSignal);
      for await (const message of readSseMessages(body, { onChunk: touch })) {
        const { seq, event } = toStepEvent(message, options.stepId);
        if (seq <= last) continue;
        last = seq;
        progressed = true;
        if (!event) continue;
        yield event;
        if (event.type === 'finished') return;
      }
      lastError = undefined;
      if (await options.isTerminal()) return;
    } catch (error) {
      if (signal?.aborted) return;
      const failure = connection.signal.aborted
        ? new ApiError('API_UNREACHABLE', `event stream silent for ${options.idleTimeoutMs} ms`, {
            context: { stepId: options.stepId },
          })
        : error instanceof ApiError
          ? error
          : options.unreachable(error);
      if (!failure.retryable) throw failure;
      lastError = failure;
    } finally {
      clearTimeout(idleTimer);
      connection.abort();
    }
    failures = progressed ? 1 : failures + 1;
    if (failures > reconnect.attempts) throw lost(options.stepId, failures - 1, lastError);
    const delay = Math.min(reconnect.initialDelayMs * 2 ** (failures - 1), reconnect.maxDelayMs);
    if (!(await pause(delay, signal))) return;
  }
}

function lost(stepId: string, attempts: number, cause: ApiError | undefined): ApiError {
  const what = `event stream of step ${stepId} lost after ${attempts} reconnection(s)`;
  return cause
    ? new ApiError(cause.code, `${what}: ${cause.message}`, {
        status: cause.status,
        cause,
        context: { stepId },
      })
    : new ApiError('EVENT_STREAM_LOST', `${what}: it kept ending before the step finished`, {
        retryable: true,
        context: { stepId },
      });
}

/**
 * The event of one SSE message: the contract's `StepEvent`, or only its seq for a type this
 * client does not know. @throws ApiError `INVALID_EVENT` for anything else.
 */
export function toStepEvent(message: EventSourceMessage, stepId: string): { seq: number; event?: StepEvent } {
  const invalid = (why: string) =>
    new ApiError('INVALID_EVENT', `invalid event on the stream of step ${stepId}: ${why}`, {
      context: { stepId },
    });
  let data: unknown;
  try {
    data = JSON.parse(message.data);
  } catch {
    throw invalid('data is not JSON');
  }
  const parsed = StepEvent.safeParse(data);
  if (parsed.success) return { seq: parsed.data.seq, event: parsed.data };
  const { type, seq } = (typeof data === 'object' && data !== null ? data : {}) as {
    type?: unknown;
    seq?: unknown;
  };
  if (
    typeof type === 'string' &&
    !KNOWN_TYPES.has(type) &&
    Number.isSafeInteger(seq) &&
    (seq as number) >= 1
  ) {
    return { seq: seq as number };
  }
  throw invalid(toFieldIssues(parsed.error).map(formatIssue).join('; '));
}

/** Waits `ms`; false when `signal` aborted first. */
function pause(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
