import { SandfleetError, type SandfleetErrorOptions } from '@sandfleet/contracts';

/** Codes of {@link StepsError}: `STEP_NOT_FOUND`, no step (row or job) with that id. */
export type StepsErrorCode = 'STEP_NOT_FOUND';

/** An error of a step use case with a stable {@link StepsErrorCode}; never retryable. */
export class StepsError extends SandfleetError {
  declare readonly code: StepsErrorCode;

  constructor(code: StepsErrorCode, message: string, options?: SandfleetErrorOptions) {
    super(code, message, options);
  }
}

/** The `STEP_NOT_FOUND` error of `stepId`. */
export function stepNotFound(stepId: string): StepsError {
  return new StepsError('STEP_NOT_FOUND', `no step with id ${stepId}`, { context: { stepId } });
}
