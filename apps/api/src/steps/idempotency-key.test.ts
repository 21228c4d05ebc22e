import { ValidationError } from '@sandfleet/contracts';
import { describe, expect, it } from 'vitest';
import { idempotencyKey, stepIdForKey, withIdempotentId } from './idempotency-key.js';

describe('idempotency keys', () => {
  it('derive a stable, valid step id from the key', () => {
    expect(stepIdForKey('order-42')).toBe(stepIdForKey('order-42'));
    expect(stepIdForKey('order-42')).toMatch(/^idem-[0-9a-f]{32}$/);
    expect(stepIdForKey('order-42')).not.toBe(stepIdForKey('order-43'));
  });

  it('give a spec without id the key’s id and leave a spec with one alone', () => {
    const key = 'retry-me';
    expect(withIdempotentId({ agentId: 'a' }, key)).toEqual({ agentId: 'a', id: stepIdForKey(key) });
    expect(withIdempotentId({ agentId: 'a', id: 'mine' }, key)).toEqual({ agentId: 'a', id: 'mine' });
    expect(withIdempotentId({ agentId: 'a' }, undefined)).toEqual({ agentId: 'a' });
    expect(withIdempotentId(['not', 'a', 'spec'], key)).toEqual(['not', 'a', 'spec']);
  });

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
