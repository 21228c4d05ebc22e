import { describe, expect, it } from 'vitest';
import { ERROR_CODES, isErrorCode } from './error-codes.js';

describe('the error-code catalogue', () => {
  it('lists each code once, in upper snake case', () => {
    expect(new Set(ERROR_CODES).size).toBe(ERROR_CODES.length);
    for (const code of ERROR_CODES) expect(code).toMatch(/^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/);
  });

  it('tells catalogued codes from others', () => {
    expect(isErrorCode('JOB_FAILED')).toBe(true);
    expect(isErrorCode('SOMETHING_NEW')).toBe(false);
  });
});
