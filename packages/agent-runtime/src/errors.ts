import { RUNTIME_FAILURE_EXIT_CODE, type RuntimeErrorCode } from '@sandfleet/contracts';

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
