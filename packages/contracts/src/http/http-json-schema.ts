import * as z from 'zod';

/**
 * The JSON Schema (draft 2020-12, which OpenAPI 3.1 uses) of an HTTP body schema, for the
 * OpenAPI document: what a client may rely on. Objects stay open (`additionalProperties` is left
 * out), so adding a field to an answer does not break a client that validates with it.
 */
export function httpJsonSchema(schema: z.ZodType, description?: string): Record<string, unknown> {
  const { $schema: _dialect, ...json } = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io: 'input',
    unrepresentable: 'any',
  }) as Record<string, unknown>;
  return description === undefined ? json : { ...json, description };
}
