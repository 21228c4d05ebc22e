import { SandfleetError, type SandfleetErrorOptions } from '@sandfleet/contracts';

export type EngineErrorCode =
  | 'IMAGE_NOT_ALLOWED'
  | 'UNKNOWN_SECRET'
  | 'STEP_ID_MISMATCH'
  | 'SECRETS_UNAVAILABLE'
  | 'CHAT_UNAVAILABLE'
  /** A chat step names a session another agent owns: it ends `error` and gets no history. */
  | 'CHAT_SESSION_CONFLICT'
  /** BullMQ failed the step's job for good (its workers kept dying); the step ends `error`. */
  | 'JOB_FAILED'
  /** The reconciler could not queue a lost step again; the step ends `error`. */
  | 'STEP_LOST';

/** A step the engine refuses or cannot find. Final (not retried) unless said otherwise. */
export class EngineError extends SandfleetError {
  declare readonly code: EngineErrorCode;

  constructor(code: EngineErrorCode, message: string, options?: SandfleetErrorOptions) {
    super(code, message, options);
  }
}
