import * as z from 'zod';

// Internal building blocks of the contract schemas; not re-exported from the package index.
// Messages are written to be read after a field path: `limits.pids: must be an integer between 8 and …`.
// Regexes that reach the JSON Schema avoid lookaround and octal escapes, so that validators built on
// RE2-style engines (Go, Rust) compile the schema too.

/** `{ error }` for a regex check whose message names the pattern. */
export const matches = (re: RegExp) => ({ error: `must match ${re.source}` });

/** UTF-8 length of a string, in bytes. */
export const byteLength = (text: string): number => Buffer.byteLength(text, 'utf8');

/**
 * An integer in `[min, max]`, with one message for every way it can be wrong (wrong type,
 * fraction, out of range) so the caller always learns the accepted range.
 */
export function integerIn(min: number, max: number) {
  const error = `must be an integer between ${min} and ${max}`;
  return z.int({ error }).min(min, { error }).max(max, { error });
}

/** A finite number in `[min, max]`, with one message for every way it can be wrong. */
export function numberIn(min: number, max: number) {
  const error = `must be a number between ${min} and ${max}`;
  return z.number({ error }).min(min, { error }).max(max, { error });
}

/** No NUL character: neither execve, Docker nor PostgreSQL text accept one. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is the character being rejected.
export const NO_NUL = /^[^\x00]*$/;

/** A rule a string must not match, with the message given when it does. */
export interface Forbidden {
  re: RegExp;
  error: string;
}

/**
 * `schema` refined to reject strings matching any `forbidden` rule, each with its own message. The
 * JSON Schema states them as one `not: { pattern }`, since negative lookahead is not portable.
 */
export function forbidding(schema: z.ZodString, forbidden: readonly Forbidden[]) {
  let checked = schema;
  for (const { re, error } of forbidden) checked = checked.refine((s) => !re.test(s), { error });
  return checked.meta({ not: { pattern: forbidden.map(({ re }) => re.source).join('|') } });
}

/** A string of at most `max` characters without NUL. */
export function text(max: number) {
  return z
    .string()
    .max(max, { error: `must be at most ${max} characters` })
    .regex(NO_NUL, { error: 'must not contain NUL' });
}
