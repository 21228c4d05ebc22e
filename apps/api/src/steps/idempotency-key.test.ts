import { ValidationError } from '@sandfleet/contracts';
import { describe, expect, it } from 'vitest';
import { idempotencyKey } from './idempotency-key.js';

describe('the Idempotency-Key header', () => {
  it('refuse an empty, repeated, overlong or non-ASCII header, naming it', () => {
    expect(idempotencyKey(undefined)).toBeUndefined();
    expect(idempotencyKey('k-1')).toBe('k-1');
    for (const bad of ['', ['a', 'b'], 'x'.repeat(256), 'clé']) {
      try {
        idempotencyKey(bad);
        expect.unreachable();
      } catch (error) {
        expect(error).toBeInstanceOf(ValidationError);
        expect((error as ValidationError).issues[0]?.path).toBe('Idempotency-Key');
      }
    }
  });
});
