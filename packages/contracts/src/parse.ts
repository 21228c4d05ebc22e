import type { z } from 'zod';
import { type ErrorContext, type FieldIssue, ValidationError } from './errors.js';

const joinPath = (path: readonly PropertyKey[]) => path.map(String).join('.');

/**
 * Turns zod issues into `{ path, message }` pairs with dotted paths (`files.0.path`).
 *
 * Record keys that fail their own schema are reported at the key with the key schema's message
 * (zod says only "Invalid key in record"), and each unknown field of a strict object becomes its
 * own issue at the field's path.
 */
export function toFieldIssues(error: z.ZodError): FieldIssue[] {
  return error.issues.flatMap((issue) => fieldIssues(issue, []));
}

function fieldIssues(issue: z.core.$ZodIssue, prefix: readonly PropertyKey[]): FieldIssue[] {
  const path = [...prefix, ...issue.path];
  switch (issue.code) {
    case 'invalid_key':
      return issue.issues.flatMap((inner) => fieldIssues(inner, path));
    case 'unrecognized_keys':
      return issue.keys.map((key) => ({ path: joinPath([...path, key]), message: 'is not a known field' }));
    default:
      return [{ path: joinPath(path), message: issue.message }];
  }
}

// Per-parse error map: a missing value reads "is required" rather than "expected string, received
// undefined". Messages set on a schema take precedence over it.
const requiredError: z.core.$ZodErrorMap = (issue) =>
  issue.code === 'invalid_type' && issue.input === undefined ? 'is required' : undefined;

/**
 * Parses `value` with `schema`, throwing a {@link ValidationError} (code `VALIDATION_FAILED`) that
 * names every bad field.
 * @param what - noun used in the message, e.g. `step spec`.
 */
export function parseOrThrow<S extends z.ZodType>(
  schema: S,
  value: unknown,
  what: string,
  context?: ErrorContext,
): z.output<S> {
  const result = schema.safeParse(value, { error: requiredError });
  if (!result.success) throw new ValidationError(what, toFieldIssues(result.error), context);
  return result.data;
}
