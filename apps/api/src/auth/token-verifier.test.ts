import { describe, expect, it } from 'vitest';
import { TokenVerifier } from './token-verifier.js';

describe('TokenVerifier', () => {
  const verifier = new TokenVerifier(['first-token-0123456789', 'second-token-0123456789']);

  it('accepts each configured token and nothing else', () => {
    expect(verifier.verify('first-token-0123456789')).toBe(true);
    expect(verifier.verify('second-token-0123456789')).toBe(true);
    expect(verifier.verify('first-token-012345678')).toBe(false);
    expect(verifier.verify('first-token-0123456789x')).toBe(false);
    expect(verifier.verify('')).toBe(false);
    expect(verifier.verify(undefined)).toBe(false);
  });

  it('is empty without tokens and then accepts none', () => {
    const none = new TokenVerifier([]);
    expect(none.empty).toBe(true);
    expect(none.verify('anything-at-all-123')).toBe(false);
  });
});
