import {
  type ErrorBody,
  type ErrorCode,
  isErrorCode,
  SandfleetError,
  ValidationError,
} from '@sandfleet/contracts';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from './errors.js';

/**
 * HTTP status of every error code of the catalogue: the one place codes become statuses. A 500
 * answers only `INTERNAL_ERROR` (the code and message stay in the log); so does a code missing
 * from the catalogue. Kept in step with the error-code table of docs/design.md by a test.
 */
export const STATUS_BY_CODE = {
  // the request is wrong
  VALIDATION_FAILED: 400,
  INVALID_CURSOR: 400,
  INVALID_BODY: 400,
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  CHAT_SESSION_CONFLICT: 409,
  STEP_NOT_FOUND: 404,
  NOT_FOUND: 404,
  BODY_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  // a dependency is down or the API is closing: try again
  NOT_READY: 503,
  DB_UNAVAILABLE: 503,
  DATABASE_CLOSED: 503,
  QUEUE_UNAVAILABLE: 503,
  ENQUEUE_FAILED: 503,
  QUEUE_FULL: 503,
  STREAM_READ_FAILED: 503,
  STREAM_SUBSCRIBE_FAILED: 503,
  STREAM_SUBSCRIBER_CLOSED: 503,
  // a bug, or a code the API never meets (the worker's, the runtime's, the client's)
  INTERNAL_ERROR: 500,
  INVALID_CONFIG: 500,
  QUERY_FAILED: 500,
  MIGRATION_FAILED: 500,
  INVALID_ARGUMENT: 500,
  INVALID_OPTIONS: 500,
  SCHEMA_NOT_DROPPABLE: 500,
  STEP_ID_MISMATCH: 500,
  JOB_DATA_REJECTED: 500,
  STEP_HANDED_BACK: 500,
  STEP_DEFERRED: 500,
  STREAM_OPTIONS_INVALID: 500,
  STREAM_WRITE_FAILED: 500,
  STREAM_EVENT_INVALID: 500,
  STREAM_PUBLISHER_CLOSED: 500,
  STREAM_ATTEMPT_FENCED: 500,
  INVALID_REQUEST: 500,
  IMAGE_NOT_FOUND: 500,
  IMAGE_BUILD_FAILED: 500,
  DOCKER_UNAVAILABLE: 500,
  NETWORK_SETUP_FAILED: 500,
  CONTAINER_CREATE_FAILED: 500,
  INJECT_FAILED: 500,
  CONTAINER_START_FAILED: 500,
  CONTAINER_WAIT_FAILED: 500,
  CONTAINER_LOST: 500,
  ABORTED: 500,
  CLOSED: 500,
  VOLUME_IN_USE: 500,
  DISK_SETUP_FAILED: 500,
  IMAGE_NOT_ALLOWED: 500,
  UNKNOWN_SECRET: 500,
  SECRETS_UNAVAILABLE: 500,
  CHAT_UNAVAILABLE: 500,
  JOB_FAILED: 500,
  STEP_LOST: 500,
  INVALID_ENV: 500,
  WORKSPACE_FAILED: 500,
  PUBLISH_FAILED: 500,
  INTERRUPTED: 500,
  INTERNAL: 500,
  API_UNREACHABLE: 500,
  UNEXPECTED_RESPONSE: 500,
  INVALID_EVENT: 500,
  EVENT_STREAM_LOST: 500,
} as const satisfies Record<ErrorCode, number>;

// Fastify's own errors, by code, as API errors.
const FASTIFY_CODES: Readonly<Record<string, ApiError['code']>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'INVALID_BODY',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'INVALID_BODY',
  FST_ERR_CTP_INVALID_JSON_BODY: 'INVALID_BODY',
};

/**
 * Any thrown value as a SandfleetError: itself, an API error for Fastify's client errors, or
 * `INTERNAL_ERROR`. Redis outages arrive as the queue's and the stream's own codes
 * (`QUEUE_UNAVAILABLE`, `STREAM_*`): only those packages know Redis.
 */
export function toApiError(error: unknown): SandfleetError {
  if (error instanceof SandfleetError) return error;
  const fastify = error as Partial<FastifyError> & { type?: string };
  const message = error instanceof Error ? error.message : String(error);
  const mapped = fastify.code ? FASTIFY_CODES[fastify.code] : undefined;
  if (mapped) return new ApiError(mapped, message, { cause: error });
  // The JSON body parser throws a SyntaxError carrying status 400.
  if (error instanceof SyntaxError && fastify.statusCode === 400) {
    return new ApiError('INVALID_BODY', `body is not valid JSON: ${message}`, { cause: error });
  }
  if (typeof fastify.statusCode === 'number' && fastify.statusCode >= 400 && fastify.statusCode < 500) {
    return new ApiError('BAD_REQUEST', message, { cause: error });
  }
  return new ApiError('INTERNAL_ERROR', 'internal error', { cause: error });
}

/** The HTTP status of an error code (500 when not listed). */
export function statusOf(code: string): number {
  return isErrorCode(code) ? STATUS_BY_CODE[code] : 500;
}

// Messages of these wrap driver errors (addresses, SQL states): clients get a fixed text instead.
const UNAVAILABLE_MESSAGES: Readonly<Record<string, string>> = {
  DB_UNAVAILABLE: 'database unavailable; try again',
  DATABASE_CLOSED: 'the API is shutting down; try again',
  STREAM_READ_FAILED: 'event stream unavailable; try again',
  STREAM_SUBSCRIBE_FAILED: 'event stream unavailable; try again',
  STREAM_SUBSCRIBER_CLOSED: 'the API is shutting down; try again',
};

/** The JSON body of an error; a 500 says `internal error` and nothing more. */
export function errorBody(error: SandfleetError, status: number): ErrorBody {
  if (status === 500) {
    return { error: { code: 'INTERNAL_ERROR', message: 'internal error' } };
  }
  const message = UNAVAILABLE_MESSAGES[error.code] ?? error.message;
  const body: ErrorBody = { error: { code: error.code, message } };
  if (error instanceof ValidationError) body.error.issues = error.issues;
  if (error instanceof ApiError && error.details) body.error.details = error.details;
  return body;
}

/**
 * The API's one error handler: maps the error's code to a status, answers
 * `{ "error": { "code", "message" } }`, and logs server errors with their cause.
 */
export function handleError(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const failure = toApiError(error);
  const status = statusOf(failure.code);
  if (status === 500) request.log.error({ err: error, code: failure.code }, 'request failed');
  else if (status >= 500)
    request.log.warn({ err: error, code: failure.code }, 'request failed; dependency down');
  else request.log.info({ code: failure.code, status }, 'request refused');
  if (status === 401) reply.header('www-authenticate', 'Bearer realm="sandfleet"');
  if (status === 503) reply.header('retry-after', '1');
  return reply.status(status).type('application/json; charset=utf-8').send(errorBody(failure, status));
}
