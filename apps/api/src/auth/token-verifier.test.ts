import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { TokenVerifier } from './token-verifier.js';

describe('TokenVerifier', () => {
  const scoped = {
    name: 'team-a',
    sha256: createHash('sha256').update('team-a-token-0123456789').digest('hex'),
    scope: { agents: ['team-a-*'] },
  };
  const verifier = new TokenVerifier(['first-token-0123456789', 'second-token-0123456789', scoped]);

  it('accepts each configured token and nothing else', () => {
    expect(verifier.verify('first-token-0123456789')).toBeDefined();
    expect(verifier.verify('second-token-0123456789')).toBeDefined();
    expect(verifier.verify('first-token-012345678')).toBeUndefined();
    expect(verifier.verify('first-token-0123456789x')).toBeUndefined();
    expect(verifier.verify('')).toBeUndefined();
    expect(verifier.verify(undefined)).toBeUndefined();
  });

  it('names text tokens env-1, env-2 (unrestricted) and keeps a file token’s name and scope', () => {
    expect(verifier.verify('first-token-0123456789')).toEqual({ name: 'env-1', scope: {} });
    expect(verifier.verify('second-token-0123456789')).toEqual({ name: 'env-2', scope: {} });
    expect(verifier.verify('team-a-token-0123456789')).toEqual({
      name: 'team-a',
      scope: { agents: ['team-a-*'] },
    });
  });

  it('is empty without tokens and then accepts none', () => {
    const none = new TokenVerifier([]);
    expect(none.empty).toBe(true);
    expect(none.verify('anything-at-all-123')).toBeUndefined();
  });
});
