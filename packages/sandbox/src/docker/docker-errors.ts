import type { ErrorContext } from '@sandfleet/contracts';
import { SandboxError, type SandboxErrorCode } from '../errors.js';

const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOENT',
  'EACCES',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ERR_SOCKET_CLOSED',
]);

/** HTTP status of a failed Docker Engine call, when the engine answered. */
export function dockerStatus(error: unknown): number | undefined {
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

/** Whether the engine could not be reached at all (socket missing, refused, reset). */
export function isDockerUnreachable(error: unknown): boolean {
  if (dockerStatus(error) !== undefined) return false;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && UNREACHABLE_CODES.has(code);
}

/** Whether a request's connection broke mid-way (the engine went away while it answered). */
export function isBrokenConnection(error: unknown): boolean {
  if (dockerStatus(error) !== undefined) return false;
  return error instanceof Error && /socket hang up|ECONNRESET|EPIPE|aborted/i.test(error.message);
}

/** A failed call that is fine to ignore when removing or stopping: the container is gone or not running. */
export function isGoneOrNotRunning(error: unknown): boolean {
  const status = dockerStatus(error);
  return status === 404 || status === 409 || status === 304;
}

export function dockerUnavailable(error: unknown, context: ErrorContext): SandboxError {
  return new SandboxError('DOCKER_UNAVAILABLE', `Docker engine unreachable: ${describe(error)}`, {
    retryable: true,
    cause: error,
    context,
  });
}

/**
 * Wraps an engine failure in a {@link SandboxError} with `code`, or `DOCKER_UNAVAILABLE` when the
 * engine was unreachable. Client errors (400) are not retryable; everything else may be transient.
 */
export function toSandboxError(
  error: unknown,
  code: SandboxErrorCode,
  what: string,
  context: ErrorContext,
): SandboxError {
  if (error instanceof SandboxError) return error;
  if (isDockerUnreachable(error)) return dockerUnavailable(error, context);
  return new SandboxError(code, `${what}: ${describe(error)}`, {
    retryable: dockerStatus(error) !== 400,
    cause: error,
    context,
  });
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message.trim() : String(error);
}
