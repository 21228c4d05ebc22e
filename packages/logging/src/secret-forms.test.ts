import { describe, expect, it } from 'vitest';
import { BASE64_LINE_COLUMNS, MIN_ENCODED_FORM_LENGTH, secretForms } from './secret-forms.js';

/** Whether some form of `secret` occurs in `text`. */
const found = (secret: string, text: string) => secretForms(secret).some((form) => text.includes(form));
const b64 = (text: string) => Buffer.from(text).toString('base64');

describe('secretForms', () => {
  const secret = 'p@ss w/rd"<&>\'ü+x';

  it('has no forms for the empty secret and no empty or repeated forms otherwise', () => {
    expect(secretForms('')).toEqual([]);
    const forms = secretForms(secret);
    expect(forms.every((form) => form.length > 0)).toBe(true);
    expect(new Set(forms).size).toBe(forms.length);
  });

  it('finds the literal and its JSON, XML, shell and command-line spellings', () => {
    const inner = JSON.stringify(secret).slice(1, -1);
    for (const text of [
      secret,
      JSON.stringify({ v: secret }),
      JSON.stringify({ v: JSON.stringify({ v: secret }) }),
      `<v>${secret.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll("'", '&apos;')}</v>`,
      `<v>${secret.replaceAll('&', '&#38;').replaceAll('<', '&#60;').replaceAll('>', '&#62;').replaceAll('"', '&#34;').replaceAll("'", '&#39;')}</v>`,
      `run "${secret.replaceAll('"', '\\"')}"`,
      `sh -c '${secret.replaceAll("'", "'\\''")}'`,
      `ps '${secret.replaceAll("'", "''")}'`,
    ]) {
      expect(found(secret, text), text).toBe(true);
    }
    expect(inner).not.toBe(secret);
  });

  it('finds the value inside double quotes without them', () => {
    expect(found('"quoted-secret"', 'x=quoted-secret')).toBe(true);
  });

  it('finds URL and %-encodings with either case of hex digits', () => {
    const component = encodeURIComponent(secret);
    const all = [...Buffer.from(secret)].map((byte) => `%${byte.toString(16).padStart(2, '0')}`).join('');
    for (const text of [
      `?q=${component}`,
      `?q=${component.toLowerCase()}`,
      `?q=${new URLSearchParams({ q: secret }).toString()}`,
      all,
      all.toUpperCase(),
    ]) {
      expect(found(secret, text), text).toBe(true);
    }
  });

  it('finds hex in lower and upper case', () => {
    const hex = Buffer.from(secret).toString('hex');
    expect(found(secret, `0x${hex}`)).toBe(true);
    expect(found(secret, `0x${hex.toUpperCase()}`)).toBe(true);
  });

  it.each([0, 1, 2, 3, 4, 5])(
    'finds base64 of the secret after %i other bytes, in both alphabets',
    (prefix) => {
      for (const value of ['tok-1234', 'tok-12345', 'tok-123456', secret]) {
        const payload = Buffer.concat([
          Buffer.from('u'.repeat(prefix)),
          Buffer.from(value),
          Buffer.from('!tail'),
        ]);
        expect(found(value, payload.toString('base64')), `${prefix} ${value}`).toBe(true);
        expect(found(value, payload.toString('base64url')), `${prefix} ${value} url`).toBe(true);
        const ending = Buffer.concat([Buffer.from('u'.repeat(prefix)), Buffer.from(value)]);
        expect(found(value, ending.toString('base64'))).toBe(true);
      }
    },
  );

  it('covers the whole base64 of a secret that is the whole payload, padding included', () => {
    const forms = secretForms('tok-1234');
    expect(forms).toContain(b64('tok-1234'));
    expect(forms).toContain(b64('tok-1234').replace(/=+$/, ''));
  });

  it('finds base64 wrapped at 76 columns, with LF and CRLF', () => {
    const long = 'x'.repeat(40) + secret + 'y'.repeat(40);
    const lines = b64(long).match(new RegExp(`.{1,${BASE64_LINE_COLUMNS}}`, 'g')) as string[];
    expect(lines.length).toBeGreaterThan(1);
    expect(found(long, `${lines.join('\n')}\n`)).toBe(true);
    expect(found(long, lines.join('\r\n'))).toBe(true);
  });

  it('finds the base64 of the UTF-16LE bytes (PowerShell -EncodedCommand)', () => {
    expect(found(secret, Buffer.from(secret, 'utf16le').toString('base64'))).toBe(true);
  });

  it('keeps the literal of a short secret but no encoded form shorter than the minimum', () => {
    const forms = secretForms('ab');
    expect(forms).toContain('ab');
    expect(forms).toContain(Buffer.from('ab').toString('hex'));
    expect(
      forms.filter((form) => form !== 'ab').every((form) => form.length >= MIN_ENCODED_FORM_LENGTH),
    ).toBe(true);
    expect(secretForms('x')).toEqual(['x', 'eA==', 'eAA=']);
    expect(found('k9!', 'say k9! now')).toBe(true);
  });

  it('does not find unrelated text', () => {
    expect(found('hunter22', 'hunter2 hunter 22 aHVudGVy')).toBe(false);
  });
});
