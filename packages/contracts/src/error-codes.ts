/**
 * Every error code Sandfleet raises, records on a step row (`errorCode`) or answers over HTTP,
 * each once (a code two packages raise means the same thing in both). Package unions
 * (`DbErrorCode`, `QueueErrorCode`, …) are subsets: {@link SandfleetError} takes only these.
 * The meaning and HTTP status of each is in the error-code table of docs/design.md.
 */
export const ERROR_CODES = [
  // contracts
  'VALIDATION_FAILED',
  // config
  'INVALID_CONFIG',
  // db
  'DB_UNAVAILABLE',
  'QUERY_FAILED',
  'MIGRATION_FAILED',
  'INVALID_CURSOR',
  'INVALID_ARGUMENT',
  'INVALID_OPTIONS',
  'SCHEMA_NOT_DROPPABLE',
  'DATABASE_CLOSED',
  // queue
  'QUEUE_UNAVAILABLE',
  'ENQUEUE_FAILED',
  'QUEUE_FULL',
  'JOB_DATA_REJECTED',
  'STEP_ID_MISMATCH',
  'STEP_HANDED_BACK',
  'STEP_DEFERRED',
  // stream
  'STREAM_OPTIONS_INVALID',
  'STREAM_WRITE_FAILED',
  'STREAM_READ_FAILED',
  'STREAM_EVENT_INVALID',
  'STREAM_PUBLISHER_CLOSED',
  'STREAM_SUBSCRIBE_FAILED',
  'STREAM_SUBSCRIBER_CLOSED',
  'STREAM_ATTEMPT_FENCED',
  // sandbox
  'INVALID_REQUEST',
  'IMAGE_NOT_FOUND',
  'IMAGE_BUILD_FAILED',
  'DOCKER_UNAVAILABLE',
  'NETWORK_SETUP_FAILED',
  'CONTAINER_CREATE_FAILED',
  'INJECT_FAILED',
  'CONTAINER_START_FAILED',
  'CONTAINER_WAIT_FAILED',
  'CONTAINER_LOST',
  'ABORTED',
  'CLOSED',
  'VOLUME_IN_USE',
  'DISK_SETUP_FAILED',
  // engine and steps (recorded on step rows)
  'IMAGE_NOT_ALLOWED',
  'UNKNOWN_SECRET',
  'SECRETS_UNAVAILABLE',
  'CHAT_UNAVAILABLE',
  'CHAT_SESSION_CONFLICT',
  'STEP_NOT_FOUND',
  'JOB_FAILED',
  'STEP_LOST',
  // agent runtime (the `result` event's error, recorded on the row)
  'INVALID_ENV',
  'WORKSPACE_FAILED',
  'PUBLISH_FAILED',
  'INTERRUPTED',
  'INTERNAL',
  // api
  'UNAUTHORIZED',
  'FORBIDDEN',
  'NOT_FOUND',
  'INVALID_BODY',
  'BODY_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'BAD_REQUEST',
  'NOT_READY',
  'RATE_LIMITED',
  'INTERNAL_ERROR',
  // client
  'API_UNREACHABLE',
  'UNEXPECTED_RESPONSE',
  'INVALID_EVENT',
  'EVENT_STREAM_LOST',
] as const;

/** One of {@link ERROR_CODES}. */
export type ErrorCode = (typeof ERROR_CODES)[number];

const KNOWN: ReadonlySet<string> = new Set(ERROR_CODES);

/** Whether `code` is one of {@link ERROR_CODES} (an API answer may carry a newer one). */
export function isErrorCode(code: string): code is ErrorCode {
  return KNOWN.has(code);
}
