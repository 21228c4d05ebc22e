import { ValidationError } from '@sandfleet/contracts';

/** Header naming a retry-safe request: the same key twice enqueues one step. */
export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';
/** Printable ASCII, 1 to 255 characters. */
const KEY_PATTERN = /^[\x20-\x7e]{1,255}$/;

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
