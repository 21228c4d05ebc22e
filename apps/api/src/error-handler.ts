import { SandfleetError, ValidationError } from '@sandfleet/contracts';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, type ErrorBody } from './errors.js';

/**
 * HTTP status of each error code: the one place codes become statuses. Codes not listed are 500.
 * Codes come from the API itself, contracts (`VALIDATION_FAILED`), db, queue, engine and stream.
 */
export const STATUS_BY_CODE: Readonly<Record<string, number>> = {
  VALIDATION_FAILED: 400,
  INVALID_CURSOR: 400,
  INVALID_BODY: 400,
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  STEP_NOT_FOUND: 404,
  NOT_FOUND: 404,
  BODY_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  NOT_READY: 503,
  DB_UNAVAILABLE: 503,
  DATABASE_CLOSED: 503,
  QUEUE_UNAVAILABLE: 503,
  ENQUEUE_FAILED: 503,
  STREAM_READ_FAILED: 503,
  STREAM_SUBSCRIBE_FAILED: 503,
  STREAM_SUBSCRIBER_CLOSED: 503,
};

// Fastify's own errors, by code, as API errors.
const FASTIFY_CODES: Readonly<Record<string, ApiError['code']>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'INVALID_BODY',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'INVALID_BODY',
  FST_ERR_CTP_INVALID_JSON_BODY: 'INVALID_BODY',
};

// ioredis raises these plain errors while Redis is down; the queue package passes some through.
const REDIS_DOWN =
  /Connection is closed|ECONNREFUSED|ETIMEDOUT|EHOSTUNREACH|Stream isn't writeable|max retries/i;

/** Any thrown value as a SandfleetError with a code from {@link STATUS_BY_CODE} or `INTERNAL_ERROR`. */
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
  if (error instanceof Error && (error.name === 'MaxRetriesPerRequestError' || REDIS_DOWN.test(message))) {
    return new SandfleetError('QUEUE_UNAVAILABLE', 'queue unavailable: Redis did not answer', {
      cause: error,
      retryable: true,
    });
  }
  return new ApiError('INTERNAL_ERROR', 'internal error', { cause: error });
}

/** The HTTP status of an error code (500 when not listed). */
export function statusOf(code: string): number {
  return STATUS_BY_CODE[code] ?? 500;
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
  if (status >= 500 && !(error.code in STATUS_BY_CODE)) {
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
