import { describe, expect, it } from 'vitest';
import { SecretRegistry } from './secret-registry.js';

describe('SecretRegistry', () => {
  it('leaves text alone when empty', () => {
    expect(new SecretRegistry().redact('nothing to hide')).toBe('nothing to hide');
  });

  it('replaces every occurrence of every value, longest first', () => {
    const registry = new SecretRegistry({ values: ['abcd', 'abcdefgh'] });
    expect(registry.redact('abcdefgh abcd xabcdx')).toBe('*** *** x***x');
  });

  it('treats regex characters in values literally', () => {
    const registry = new SecretRegistry({ values: ['a.b*c+'] });
    expect(registry.redact('a.b*c+ aXbbc')).toBe('*** aXbbc');
  });

  it('replaces the URL-encoded spelling of a value', () => {
    const registry = new SecretRegistry({ values: ['p@ss w/rd'] });
    expect(registry.redact('https://x/?key=p%40ss%20w%2Frd')).toBe('https://x/?key=***');
  });

  it('redacts a value of any length by default, and ignores values shorter than minLength', () => {
    expect(new SecretRegistry({ values: ['k9!'] }).redact('pw k9! ok')).toBe('pw *** ok');
    const registry = new SecretRegistry({ values: ['abc', 'abcd'], minLength: 4 });
    expect(registry.size).toBe(1);
    expect(registry.has('abc')).toBe(false);
  });

  it('redacts the encoded forms step output is redacted with (hex, base64 at any offset)', () => {
    const secret = 'tok-1234-xyz';
    const registry = new SecretRegistry({ values: [secret] });
    const hex = Buffer.from(secret).toString('hex');
    const shifted = Buffer.from(`u:${secret}`).toString('base64');
    expect(registry.redact(`h=${hex} b=${shifted}`)).not.toMatch(
      new RegExp(`${hex}|${shifted.slice(3, 15)}`),
    );
  });

  it('counts adds, forgetting a value only when every add is removed', () => {
    const registry = new SecretRegistry();
    registry.add(['value-1', 'value-1']);
    registry.remove(['value-1']);
    expect(registry.redact('value-1')).toBe('***');
    registry.remove(['value-1', 'never-added']);
    expect(registry.redact('value-1')).toBe('value-1');
    expect(registry.size).toBe(0);
  });
});
