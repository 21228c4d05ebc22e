import {
  ErrorBody,
  type ErrorCode,
  type FieldIssue,
  formatIssue,
  parseOrThrow,
  SandfleetError,
  type SandfleetErrorOptions,
  ValidationError,
} from '@sandfleet/contracts';

/** A zod schema of the contracts (the client reaches zod only through them). */
export type ContractSchema = Parameters<typeof parseOrThrow>[0];

/**
 * Codes the client raises itself; every other code is the API's own (`VALIDATION_FAILED`,
 * `UNAUTHORIZED`, `STEP_NOT_FOUND`, `INVALID_CURSOR`, `NOT_READY`, …), passed through as answered.
 *
 * - `API_UNREACHABLE`: no answer: connection refused or reset, DNS, timeout. Retryable.
 * - `UNEXPECTED_RESPONSE`: an answer that is not the API's (a proxy's HTML error page, bad JSON),
 *   or a body that breaks its contract schema (`issues` names each bad field).
 * - `INVALID_EVENT`: an event on the stream that breaks the `StepEvent` contract.
 * - `EVENT_STREAM_LOST`: an event stream kept ending before the step finished. Retryable.
 * - `INVALID_ARGUMENT`: a client option is unusable (`baseUrl` is not an http(s) URL).
 */
export type ClientErrorCode =
  | 'API_UNREACHABLE'
  | 'UNEXPECTED_RESPONSE'
  | 'INVALID_EVENT'
  | 'EVENT_STREAM_LOST'
  | 'INVALID_ARGUMENT';

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

  /** @param code - a {@link ClientErrorCode}, or the code the API answered (a newer API may send one this client does not know). */
  constructor(code: ErrorCode | (string & {}), message: string, options: ApiErrorOptions = {}) {
    super(code as ErrorCode, message, {
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
export function isApiError(error: unknown, ...codes: (ErrorCode | (string & {}))[]): error is ApiError {
  return error instanceof ApiError && (codes.length === 0 || codes.includes(error.code));
}

/** The {@link ApiError} of a non-2xx answer, from its body when it has the API's error shape. */
export function errorFromAnswer(status: number, statusText: string, text: string, stepId?: string): ApiError {
  const context = stepId === undefined ? undefined : { stepId };
  const body = ErrorBody.safeParse(parseJson(text));
  if (body.success) {
    const { code, message, issues, details } = body.data.error;
    return new ApiError(code, message, { status, context, issues, details });
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

/**
 * The body of a 2xx answer, parsed with its contract schema.
 * @throws ApiError `UNEXPECTED_RESPONSE` when it is not JSON or breaks the schema; `issues` names
 *   each bad field.
 */
export function parseAnswer<S extends ContractSchema>(
  schema: S,
  text: string,
  what: string,
  options: { status: number; stepId?: string },
): ReturnType<typeof parseOrThrow<S>> {
  const context = options.stepId === undefined ? undefined : { stepId: options.stepId };
  const json = parseJson(text);
  if (json === NOT_JSON) {
    throw new ApiError('UNEXPECTED_RESPONSE', `answer of ${what} is not JSON`, {
      status: options.status,
      context,
    });
  }
  try {
    return parseOrThrow(schema, json, 'answer');
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    throw new ApiError(
      'UNEXPECTED_RESPONSE',
      `answer of ${what} breaks the API contract: ${error.issues.map(formatIssue).join('; ')}`,
      { status: options.status, context, issues: error.issues, cause: error },
    );
  }
}

const NOT_JSON = Symbol('not JSON');

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return NOT_JSON;
  }
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
