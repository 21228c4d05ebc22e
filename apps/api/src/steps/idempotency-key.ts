import { createHash } from 'node:crypto';
import { ValidationError } from '@sandfleet/contracts';

/** Header naming a retry-safe request: the same key twice enqueues one step. */
export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';
/** Printable ASCII, 1 to 255 characters. */
const KEY_PATTERN = /^[\x20-\x7e]{1,255}$/;

/**
 * The step id a key stands for when the spec names none: `idem-` and the first 32 hex digits of
 * the key's SHA-256, a valid step id whatever the key, and the same on every retry.
 */
export function stepIdForKey(key: string): string {
  return `idem-${createHash('sha256').update(key, 'utf8').digest('hex').slice(0, 32)}`;
}

/**
 * The `Idempotency-Key` header's value, or undefined when absent.
 * @throws ValidationError when it is repeated, empty, longer than 255 or not printable ASCII.
 */
export function idempotencyKey(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  if (typeof header !== 'string' || !KEY_PATTERN.test(header)) {
    throw new ValidationError('request', [
      { path: 'Idempotency-Key', message: 'must be one value of 1 to 255 printable ASCII characters' },
    ]);
  }
  return header;
}

/**
 * The body to enqueue: a spec without `id` gets the key's id, so a retried request is the same
 * step; a spec with an `id` keeps it (the id already makes it idempotent).
 */
export function withIdempotentId(body: unknown, key: string | undefined): unknown {
  if (key === undefined || typeof body !== 'object' || body === null || Array.isArray(body)) return body;
  if ((body as { id?: unknown }).id !== undefined) return body;
  return { ...body, id: stepIdForKey(key) };
}
