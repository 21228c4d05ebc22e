import { type FieldIssue, formatIssue, SandfleetError } from '@sandfleet/contracts';

/**
 * The environment does not make a valid configuration. `problems` lists every one as
 * `VARIABLE_NAME: message`; the message repeats them one per line, ready to print before exiting.
 * Never retryable, and never carries a variable's value.
 */
export class ConfigError extends SandfleetError {
  /** Each problem as `{ path: variable name, message }`. */
  readonly issues: readonly FieldIssue[];
  /** Each problem as `VARIABLE_NAME: message`. */
  readonly problems: readonly string[];

  constructor(issues: readonly FieldIssue[], options: { cause?: unknown } = {}) {
    const problems = issues.map(formatIssue);
    super('INVALID_CONFIG', `invalid configuration:\n  ${problems.join('\n  ')}`, {
      retryable: false,
      cause: options.cause,
    });
    this.issues = issues;
    this.problems = problems;
  }
}
