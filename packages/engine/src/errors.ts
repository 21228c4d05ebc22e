import { SandfleetError, type SandfleetErrorOptions } from '@sandfleet/contracts';

export type EngineErrorCode =
  | 'IMAGE_NOT_ALLOWED'
  | 'UNKNOWN_SECRET'
  | 'STEP_NOT_FOUND'
  | 'STEP_ID_MISMATCH'
  | 'SECRETS_UNAVAILABLE'
  | 'CHAT_UNAVAILABLE';

/** A step the engine refuses or cannot find. Final (not retried) unless said otherwise. */
export class EngineError extends SandfleetError {
  declare readonly code: EngineErrorCode;

  constructor(code: EngineErrorCode, message: string, options?: SandfleetErrorOptions) {
    super(code, message, options);
  }
}
