import { describe, expect, it } from 'vitest';
import {
  assertSpecAllowed,
  assertStepVisible,
  matchesGlobs,
  type Principal,
  scopedSharedVault,
} from './step-scope.js';

const teamA: Principal = {
  name: 'team-a',
  scope: { agents: ['team-a-*'], secrets: ['A_?'], images: ['img:*'] },
};
const spec = (extra: object) =>
  ({ agentId: 'team-a-1', secrets: [], files: [], env: {}, image: 'img:1', ...extra }) as never;

describe('token scopes', () => {
  it('matches * and ? and treats every other character literally', () => {
    expect(matchesGlobs(['team-a-*'], 'team-a-')).toBe(true);
    expect(matchesGlobs(['team-a-*'], 'team-b-1')).toBe(false);
    expect(matchesGlobs(['A_?'], 'A_B')).toBe(true);
    expect(matchesGlobs(['A_?'], 'A_BC')).toBe(false);
    expect(matchesGlobs(['a.b'], 'axb')).toBe(false);
    expect(matchesGlobs(['x(y'], 'x(y')).toBe(true);
    expect(matchesGlobs([], 'anything')).toBe(false);
  });

  it('names the first field out of scope; an unrestricted or missing principal passes', () => {
    const fail = (extra: object) => {
      try {
        assertSpecAllowed(teamA, spec(extra));
      } catch (error) {
        return [(error as { code: string }).code, (error as Error).message];
      }
      return undefined;
    };
    expect(fail({})).toBeUndefined();
    expect(fail({ agentId: 'team-b-1' })).toEqual(['FORBIDDEN', 'agentId: not allowed for token team-a']);
    expect(fail({ secrets: ['A_X', 'B_X'] })).toEqual([
      'FORBIDDEN',
      'secrets.1: not allowed for token team-a',
    ]);
    expect(fail({ image: 'other:1' })).toEqual(['FORBIDDEN', 'image: not allowed for token team-a']);
    expect(fail({ image: undefined })?.[1]).toMatch(/^image: must be named/);
    expect(() => assertSpecAllowed(teamA, spec({ image: undefined }), 'img:default')).not.toThrow();
    expect(() => assertSpecAllowed({ name: 'env-1', scope: {} }, spec({ agentId: 'x' }))).not.toThrow();
    expect(() => assertSpecAllowed(undefined, spec({ agentId: 'x' }))).not.toThrow();
  });

  it('hides another agent’s step, and a job without a row, from a token scoped on agents', () => {
    expect(() => assertStepVisible(teamA, 'team-a-2')).not.toThrow();
    expect(() => assertStepVisible(teamA, 'team-b-2')).toThrow('stepId: not allowed for token team-a');
    expect(() => assertStepVisible(teamA, undefined)).toThrow('stepId: not allowed');
    expect(() => assertStepVisible({ name: 'all', scope: {} }, undefined)).not.toThrow();
  });

  it("fills in the token's team, and refuses another team or a write the token does not allow", () => {
    const reader: Principal = { name: 'ci-a', scope: { team: 'team-a', vault: 'read' } };
    const writer: Principal = { name: 'team-b', scope: { team: 'team-b' } };
    const refusal = (principal: Principal, sharedVault: object) => {
      try {
        scopedSharedVault(principal, { sharedVault } as never);
      } catch (error) {
        return [(error as { code: string }).code, (error as Error).message];
      }
      return undefined;
    };
    expect(scopedSharedVault(reader, {})).toEqual({ team: 'team-a', access: 'read' });
    expect(scopedSharedVault(writer, { sharedVault: { access: 'write' } })).toEqual({
      team: 'team-b',
      access: 'write',
    });
    expect(scopedSharedVault(writer, { sharedVault: { team: 'team-b', access: 'read' } })).toEqual({
      team: 'team-b',
      access: 'read',
    });
    expect(refusal(writer, { team: 'team-a', access: 'read' })).toEqual([
      'FORBIDDEN',
      'sharedVault.team: not allowed for token team-b',
    ]);
    expect(refusal(reader, { access: 'write' })).toEqual([
      'FORBIDDEN',
      'sharedVault.access: write not allowed for token ci-a',
    ]);
    // Unrestricted tokens and trusted callers keep what the spec says; the worker's defaults apply.
    expect(scopedSharedVault({ name: 'env-1', scope: {} }, {})).toBeUndefined();
    expect(scopedSharedVault(undefined, { sharedVault: { team: 'x', access: 'write' } })).toEqual({
      team: 'x',
      access: 'write',
    });
  });
});
