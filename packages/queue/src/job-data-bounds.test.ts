import { describe, expect, it } from 'vitest';
import { jobDataProblem } from './job-data-bounds.js';

const bounds = { maxBytes: 1000, maxDepth: 4 };

describe('jobDataProblem', () => {
  it('accepts data within both bounds', () => {
    expect(jobDataProblem(JSON.stringify({ a: [{ b: [1] }] }), bounds)).toBeUndefined();
  });

  it('counts UTF-8 bytes, not characters', () => {
    expect(jobDataProblem(JSON.stringify({ s: 'é'.repeat(499) }), bounds)).toMatch(/bytes/);
    expect(jobDataProblem(JSON.stringify({ s: 'e'.repeat(499) }), bounds)).toBeUndefined();
  });

  it('refuses nesting past the bound, ignoring brackets inside strings', () => {
    expect(jobDataProblem('[[[[[1]]]]]', bounds)).toMatch(/deeper than .* 4 levels/);
    expect(jobDataProblem(JSON.stringify({ s: '[[[[[[[[{{{{', t: 'a\\"[[[[[[' }), bounds)).toBeUndefined();
  });
});
