import type { z } from 'zod';
import { type ErrorContext, type FieldIssue, ValidationError } from './errors.js';

/** Turns zod issues into `{ path, message }` pairs with dotted paths (`files.0.path`). */
export function toFieldIssues(error: z.ZodError): FieldIssue[] {
  return error.issues.map((issue) => ({
    path: issue.path.map(String).join('.'),
    message: issue.message,
  }));
}

/**
 * Parses `value` with `schema`, throwing a {@link ValidationError} that names every bad field.
 * @param what - noun used in the message, e.g. `step spec`.
 */
export function parseOrThrow<S extends z.ZodType>(
  schema: S,
  value: unknown,
  what: string,
  context?: ErrorContext,
): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw new ValidationError(what, toFieldIssues(result.error), context);
  return result.data;
}
