import { type ErrorContext, SandfleetError } from '@sandfleet/contracts';

/**
 * Stable codes of {@link SandboxError}; callers branch on these, never on message text.
 *
 * - `INVALID_REQUEST` — the run request failed validation (bad path, id, limit); nothing was created.
 * - `IMAGE_NOT_FOUND` — the image is not present locally (Sandfleet never pulls).
 * - `IMAGE_BUILD_FAILED` — `buildImage` failed: a step failed, or the context or Dockerfile is unusable.
 * - `DOCKER_UNAVAILABLE` — the container engine could not be reached.
 * - `NETWORK_SETUP_FAILED` — the agents network could not be found or created.
 * - `CONTAINER_CREATE_FAILED`, `INJECT_FAILED`, `CONTAINER_START_FAILED`, `CONTAINER_WAIT_FAILED` —
 *   the named lifecycle phase failed; the container (if any) has been removed.
 * - `CONTAINER_LOST` — the step's container vanished, or the engine's shutdown stopped it: an
 *   infrastructure failure (retryable), never recorded as the step's own exit.
 * - `ABORTED` — the run was cancelled or shut down before the container started (or a build was aborted).
 * - `CLOSED` — the sandbox was closed; no new runs are accepted.
 * - `VOLUME_IN_USE` — a home volume cannot be removed (or migrated) while a step uses it.
 * - `DISK_SETUP_FAILED` — a size-limited home could not be created, mounted or grown on the host.
 */
export type SandboxErrorCode =
  | 'INVALID_REQUEST'
  | 'IMAGE_NOT_FOUND'
  | 'IMAGE_BUILD_FAILED'
  | 'DOCKER_UNAVAILABLE'
  | 'NETWORK_SETUP_FAILED'
  | 'CONTAINER_CREATE_FAILED'
  | 'INJECT_FAILED'
  | 'CONTAINER_START_FAILED'
  | 'CONTAINER_WAIT_FAILED'
  | 'CONTAINER_LOST'
  | 'ABORTED'
  | 'CLOSED'
  | 'VOLUME_IN_USE'
  | 'DISK_SETUP_FAILED';

export interface SandboxErrorOptions {
  /** Whether trying the same step again may succeed. */
  retryable: boolean;
  cause?: unknown;
  context?: ErrorContext;
}

/** Failure of a sandbox operation, with a stable {@link SandboxErrorCode}. */
export class SandboxError extends SandfleetError {
  declare readonly code: SandboxErrorCode;

  constructor(code: SandboxErrorCode, message: string, options: SandboxErrorOptions) {
    super(code, message, options);
  }
}

/** Whether `error` is a {@link SandboxError}, optionally with the given code. */
export function isSandboxError(error: unknown, code?: SandboxErrorCode): error is SandboxError {
  return error instanceof SandboxError && (code === undefined || error.code === code);
}
