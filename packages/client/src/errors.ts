import { type FieldIssue, SandfleetError, type SandfleetErrorOptions } from '@sandfleet/contracts';

/**
 * Codes the client raises itself; every other code is the API's own (`VALIDATION_FAILED`,
 * `UNAUTHORIZED`, `STEP_NOT_FOUND`, `INVALID_CURSOR`, `NOT_READY`, …), passed through as answered.
 *
 * - `API_UNREACHABLE`: no answer: connection refused or reset, DNS, timeout. Retryable.
 * - `UNEXPECTED_RESPONSE`: an answer that is not the API's (a proxy's HTML error page, bad JSON).
 * - `INVALID_EVENT`: an event on the stream that breaks the `StepEvent` contract.
 * - `EVENT_STREAM_LOST`: an event stream kept ending before the step finished. Retryable.
 */
export type ClientErrorCode =
  | 'API_UNREACHABLE'
  | 'UNEXPECTED_RESPONSE'
  | 'INVALID_EVENT'
  | 'EVENT_STREAM_LOST';

/** Options of {@link ApiError}. */
export interface ApiErrorOptions extends SandfleetErrorOptions {
  /** HTTP status of the answer; undefined when there was none. */
  status?: number;
  /** Every bad field of a `VALIDATION_FAILED` answer. */
  issues?: readonly FieldIssue[];
  /** Extra facts the API gave, e.g. `{ checks: { redis: 'ok', postgres: 'unreachable' } }`. */
  details?: Readonly<Record<string, unknown>>;
}

/** HTTP statuses after which the same request may succeed later. */
const RETRYABLE_STATUSES = new Set([408, 429, 502, 503, 504]);

/**
 * A failed API call: the `code` and message of the API's `{ "error": { "code", "message" } }`
 * answer with its HTTP `status`, or a {@link ClientErrorCode} when there was no usable answer.
 * Retryable for `API_UNREACHABLE` and statuses 408, 429, 502, 503 and 504.
 */
export class ApiError extends SandfleetError {
  readonly status: number | undefined;
  readonly issues: readonly FieldIssue[];
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: string, message: string, options: ApiErrorOptions = {}) {
    super(code, message, {
      retryable:
        options.retryable ??
        (code === 'API_UNREACHABLE' ||
          (options.status !== undefined && RETRYABLE_STATUSES.has(options.status))),
      cause: options.cause,
      context: options.context,
    });
    this.status = options.status;
    this.issues = options.issues ?? [];
    this.details = options.details;
  }
}

/** Whether `error` is an {@link ApiError}, optionally with one of `codes`. */
export function isApiError(error: unknown, ...codes: string[]): error is ApiError {
  return error instanceof ApiError && (codes.length === 0 || codes.includes(error.code));
}

interface ErrorBody {
  error?: { code?: unknown; message?: unknown; issues?: unknown; details?: unknown };
}

/** The {@link ApiError} of a non-2xx answer, from its body when it has the API's error shape. */
export function errorFromAnswer(status: number, statusText: string, text: string, stepId?: string): ApiError {
  const context = stepId === undefined ? undefined : { stepId };
  let body: ErrorBody | undefined;
  try {
    body = JSON.parse(text) as ErrorBody;
  } catch {
    body = undefined;
  }
  const error = body?.error;
  if (error && typeof error.code === 'string' && typeof error.message === 'string') {
    return new ApiError(error.code, error.message, {
      status,
      context,
      issues: Array.isArray(error.issues) ? (error.issues as FieldIssue[]) : undefined,
      details:
        typeof error.details === 'object' && error.details !== null
          ? (error.details as Record<string, unknown>)
          : undefined,
    });
  }
  return new ApiError(
    'UNEXPECTED_RESPONSE',
    `HTTP ${status}${statusText ? ` ${statusText}` : ''} from the API`,
    {
      status,
      context,
    },
  );
}

/** `API_UNREACHABLE` for a request that got no answer, naming the low-level reason. */
export function unreachable(baseUrl: string, cause: unknown, stepId?: string): ApiError {
  return new ApiError('API_UNREACHABLE', `cannot reach the Sandfleet API at ${baseUrl}: ${reason(cause)}`, {
    cause,
    context: stepId === undefined ? undefined : { stepId },
  });
}

/** The most telling part of a fetch failure: undici hides the errno in `cause`. */
function reason(error: unknown): string {
  const inner = (error as { cause?: unknown } | undefined)?.cause ?? error;
  const code = (inner as { code?: unknown } | undefined)?.code;
  const message = inner instanceof Error ? inner.message : String(inner);
  return typeof code === 'string' && !message.includes(code) ? `${code} ${message}` : message;
}
