import { SandfleetError, type SandfleetErrorOptions } from '@sandfleet/contracts';

/**
 * Codes of errors the API raises itself (other packages' codes pass through the same handler):
 *
 * - `UNAUTHORIZED`: no valid bearer token or session cookie.
 * - `FORBIDDEN`: authenticated, but not allowed; the message names why (e.g. a cross-site request).
 * - `STEP_NOT_FOUND`: no step with that id.
 * - `NOT_FOUND`: no such route.
 * - `INVALID_BODY`: the body is not valid JSON (or not the declared type).
 * - `BODY_TOO_LARGE`: the body is over `SANDFLEET_API_BODY_LIMIT_BYTES`.
 * - `UNSUPPORTED_MEDIA_TYPE`: a body of a content type the route does not take.
 * - `BAD_REQUEST`: any other client error raised by the HTTP layer.
 * - `NOT_READY`: Redis or PostgreSQL is unreachable (`/readyz`).
 * - `RATE_LIMITED`: past a cap, e.g. open event streams per token or in total (429, `Retry-After`).
 * - `INTERNAL_ERROR`: anything unexpected; details go to the log, never to the client.
 */
export type ApiErrorCode =
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'STEP_NOT_FOUND'
  | 'NOT_FOUND'
  | 'INVALID_BODY'
  | 'BODY_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'BAD_REQUEST'
  | 'NOT_READY'
  | 'RATE_LIMITED'
  | 'INTERNAL_ERROR';

/** Options of {@link ApiError}. */
export interface ApiErrorOptions extends SandfleetErrorOptions {
  /** Extra facts for the client, answered as `error.details` (e.g. which check failed). */
  details?: Readonly<Record<string, unknown>>;
}

/** An error of the HTTP API with a stable {@link ApiErrorCode}; never retryable unless `NOT_READY`. */
export class ApiError extends SandfleetError {
  declare readonly code: ApiErrorCode;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: ApiErrorCode, message: string, options: ApiErrorOptions = {}) {
    super(code, message, { retryable: code === 'NOT_READY', ...options });
    this.details = options.details;
  }
}
