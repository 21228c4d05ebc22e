import { describe, expect, it } from 'vitest';
import { EngineError } from './errors.js';
import { ImageAllowlist, normalizeImage } from './image-allowlist.js';

const DIGEST = `sha256:${'a'.repeat(64)}`;

describe('normalizeImage', () => {
  it('adds :latest to a reference without a tag, as Docker does', () => {
    expect(normalizeImage('busybox')).toBe('busybox:latest');
    expect(normalizeImage('sandfleet/step')).toBe('sandfleet/step:latest');
  });

  it('reads a registry port as part of the host, not as a tag', () => {
    expect(normalizeImage('localhost:5000/team/img')).toBe('localhost:5000/team/img:latest');
    expect(normalizeImage('localhost:5000/team/img:2')).toBe('localhost:5000/team/img:2');
  });

  it('leaves tagged and digest references as written', () => {
    expect(normalizeImage('busybox:1.36')).toBe('busybox:1.36');
    expect(normalizeImage(`busybox@${DIGEST}`)).toBe(`busybox@${DIGEST}`);
  });
});

describe('ImageAllowlist', () => {
  const allowlist = new ImageAllowlist(['sandfleet/step:*', 'acme/*', 'busybox:latest']);

  it('allows images matching a pattern, * standing for any run of characters', () => {
    expect(allowlist.isAllowed('sandfleet/step:1.2.3')).toBe(true);
    expect(allowlist.isAllowed('acme/team/tool:v1')).toBe(true);
    expect(allowlist.isAllowed('busybox:latest')).toBe(true);
  });

  it('reads an image without a tag as :latest', () => {
    expect(allowlist.isAllowed('busybox')).toBe(true);
    expect(allowlist.isAllowed('sandfleet/step')).toBe(true);
    expect(new ImageAllowlist(['busybox:1']).isAllowed('busybox')).toBe(false);
  });

  it('matches the whole reference, so a look-alike repository or another registry is refused', () => {
    expect(allowlist.isAllowed('evil.io/sandfleet/step:1')).toBe(false);
    expect(allowlist.isAllowed('sandfleet/stepx:1')).toBe(false);
    expect(allowlist.isAllowed('busybox:1.36')).toBe(false);
    expect(allowlist.isAllowed('acme')).toBe(false);
  });

  it('allows nothing when empty', () => {
    expect(new ImageAllowlist([]).isAllowed('busybox')).toBe(false);
  });

  it('refuses an image outside the list with a final IMAGE_NOT_ALLOWED naming the step', () => {
    expect(() => allowlist.assertAllowed('sandfleet/step:1', 'step-1')).not.toThrow();
    let error: unknown;
    try {
      allowlist.assertAllowed('ubuntu:24.04', 'step-2');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(EngineError);
    expect(error).toMatchObject({
      code: 'IMAGE_NOT_ALLOWED',
      retryable: false,
      context: { stepId: 'step-2' },
    });
  });

  it('treats a pattern without a tag as :latest, like an image without one', () => {
    const allowlist = new ImageAllowlist(['busybox']);
    expect(allowlist.isAllowed('busybox')).toBe(true);
    expect(allowlist.isAllowed('busybox:latest')).toBe(true);
    expect(allowlist.isAllowed('busybox:1.36')).toBe(false);
  });
});
