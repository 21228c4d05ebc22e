import { ValidationError } from '@sandfleet/contracts';
import { describe, expect, it } from 'vitest';
import { resumePoint } from './resume-point.js';

describe('resumePoint', () => {
  it('prefers Last-Event-ID over since, and starts at 0 without either', () => {
    expect(resumePoint('7', '3')).toBe(7);
    expect(resumePoint(undefined, '3')).toBe(3);
    expect(resumePoint('', '3')).toBe(3);
    expect(resumePoint(undefined, undefined)).toBe(0);
  });

  it('refuses anything but a non-negative integer, naming where it came from', () => {
    expect(() => resumePoint('-1', undefined)).toThrow(ValidationError);
    expect(() => resumePoint('1e3', undefined)).toThrow(/Last-Event-ID/);
    expect(() => resumePoint(undefined, 'x')).toThrow(/since/);
  });
});
