export type RuntimeErrorCode =
  /** The worker's `SANDFLEET_*` environment is invalid. */
  | 'INVALID_ENV'
  /** Cloning, fetching or checking out the workspace failed (bad URL, wrong token, unknown ref). */
  | 'WORKSPACE_FAILED'
  /** The step succeeded but committing or pushing its changes failed. */
  | 'PUBLISH_FAILED'
  /** The runtime was stopped by a signal before the command ran or while it pushed. */
  | 'INTERRUPTED'
  /** Anything else that went wrong in the runtime (the home not writable, …). */
  | 'INTERNAL';

/**
 * Exit code of the runtime when it fails itself rather than the step's command (sysexits
 * `EX_SOFTWARE`); the `result` event carries the error's code.
 */
export const RUNTIME_FAILURE_EXIT_CODE = 70;

export interface RuntimeErrorOptions {
  cause?: unknown;
  /** Exit code to end with. @defaultValue {@link RUNTIME_FAILURE_EXIT_CODE} */
  exitCode?: number;
}

/** A failure of the runtime itself; its message is safe to print (it never holds the git token). */
export class RuntimeError extends Error {
  readonly code: RuntimeErrorCode;
  readonly exitCode: number;

  constructor(code: RuntimeErrorCode, message: string, options: RuntimeErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RuntimeError';
    this.code = code;
    this.exitCode = options.exitCode ?? RUNTIME_FAILURE_EXIT_CODE;
  }
}
