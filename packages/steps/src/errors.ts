import { SandfleetError, type SandfleetErrorOptions } from '@sandfleet/contracts';

/**
 * Codes of {@link StepsError}: `STEP_NOT_FOUND`, no step (row or job) with that id; `FORBIDDEN`,
 * outside the token's scope (the message names the field); `CHAT_SESSION_CONFLICT`, the chat
 * session belongs to another agent; `RATE_LIMITED`, past one of the token's quotas
 * (`context.retryAfterSeconds` says when to try again).
 */
export type StepsErrorCode = 'STEP_NOT_FOUND' | 'FORBIDDEN' | 'CHAT_SESSION_CONFLICT' | 'RATE_LIMITED';

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

/** The `CHAT_SESSION_CONFLICT` error of a session another agent owns (the owner is not named). */
export function chatSessionConflict(sessionId: string, agentId: string): StepsError {
  return new StepsError(
    'CHAT_SESSION_CONFLICT',
    `chatSessionId: session ${sessionId} belongs to another agent than ${agentId}`,
    { context: { field: 'chatSessionId', chatSessionId: sessionId, agentId } },
  );
}
