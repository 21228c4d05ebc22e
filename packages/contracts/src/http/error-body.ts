import * as z from 'zod';

/** One bad field of a refused request: its dotted path and what is wrong with it. */
const IssueView = z.object({ path: z.string(), message: z.string() });

/** The body of every failed request: `{ "error": { "code", "message", "issues"?, "details"? } }`. */
export const ErrorBody = z.object({
  error: z.object({
    /** A stable code (see the error-code table of docs/design.md), e.g. `VALIDATION_FAILED`. */
    code: z.string().meta({ description: 'stable code, e.g. VALIDATION_FAILED, STEP_NOT_FOUND' }),
    message: z.string(),
    /** Every bad field of a `VALIDATION_FAILED` request. */
    issues: z.array(IssueView).optional(),
    /** Extra facts, e.g. `{ checks: { redis: 'ok', postgres: 'unreachable' } }` from `/readyz`. */
    details: z.record(z.string(), z.unknown()).optional(),
  }),
});
export type ErrorBody = z.infer<typeof ErrorBody>;
