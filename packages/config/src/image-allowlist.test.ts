import { describe, expect, it } from 'vitest';
import { DEFAULT_IMAGE_ALLOWLIST, isImageAllowed } from './image-allowlist.js';

describe('isImageAllowed', () => {
  it('allows images matching a pattern, * standing for any run of characters', () => {
    expect(isImageAllowed('sandfleet/step:latest', DEFAULT_IMAGE_ALLOWLIST)).toBe(true);
    expect(isImageAllowed('sandfleet/agent-runtime:1.2.3', DEFAULT_IMAGE_ALLOWLIST)).toBe(true);
    expect(isImageAllowed('acme/team/img:v1', ['acme/*'])).toBe(true);
    expect(isImageAllowed('busybox', ['busybox'])).toBe(true);
  });

  it('matches the whole reference as written', () => {
    expect(isImageAllowed('sandfleet/step', DEFAULT_IMAGE_ALLOWLIST)).toBe(false);
    expect(isImageAllowed('evil.io/sandfleet/step:1', DEFAULT_IMAGE_ALLOWLIST)).toBe(false);
    expect(isImageAllowed('sandfleet/stepx:1', DEFAULT_IMAGE_ALLOWLIST)).toBe(false);
    expect(isImageAllowed('busybox:1', ['busybox'])).toBe(false);
  });

  it('treats regex characters in patterns literally', () => {
    expect(isImageAllowed('aXb:1', ['a.b:1'])).toBe(false);
    expect(isImageAllowed('a.b:1', ['a.b:1'])).toBe(true);
  });

  it('allows nothing with an empty allowlist', () => {
    expect(isImageAllowed('sandfleet/step:latest', [])).toBe(false);
  });
});
