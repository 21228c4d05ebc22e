import type { ErrorCode } from './error-codes.js';

/** Context ids an error may carry, for logs and API responses. */
export interface ErrorContext {
  stepId?: string;
  agentId?: string;
  containerId?: string;
  workerId?: string;
  [key: string]: unknown;
}

export interface SandfleetErrorOptions {
  /** Whether trying the same operation again may succeed (infrastructure failures). */
  retryable?: boolean;
  cause?: unknown;
  context?: ErrorContext;
}

/**
 * Base of every Sandfleet error: a stable string `code` callers branch on, whether a retry may
 * help, the underlying `cause`, and the ids of what it concerns. It is raised only with a code of
 * the catalogue ({@link ErrorCode}); `code` reads as a string because an error the client builds
 * from an API answer carries whatever code that API sent.
 */
export class SandfleetError extends Error {
  readonly code: string;
  readonly retryable: boolean;
  readonly context: ErrorContext;

  constructor(code: ErrorCode, message: string, options: SandfleetErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.context = options.context ?? {};
  }
}

/** One problem found in an input: the dotted path of the field and what is wrong with it. */
export interface FieldIssue {
  path: string;
  message: string;
}

/** A StepSpec (or another contract object) failed validation. Never retryable. */
export class ValidationError extends SandfleetError {
  readonly issues: FieldIssue[];

  constructor(what: string, issues: FieldIssue[], context?: ErrorContext) {
    super('VALIDATION_FAILED', `invalid ${what}: ${issues.map(formatIssue).join('; ')}`, { context });
    this.issues = issues;
  }
}

/** Formats one issue as `path: message` (the message alone for the root). */
export function formatIssue(issue: FieldIssue): string {
  return issue.path ? `${issue.path}: ${issue.message}` : issue.message;
}
