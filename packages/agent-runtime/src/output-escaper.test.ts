import { describe, expect, it } from 'vitest';
import { OutputEscaper } from './output-escaper.js';

const escapeAll = (chunks: string[]): string => {
  const escaper = new OutputEscaper();
  const out = chunks.map((chunk) => escaper.push(Buffer.from(chunk, 'utf8')).toString('utf8'));
  return out.join('') + escaper.end().toString('utf8');
};

describe('OutputEscaper', () => {
  const prefix = '\x1b]sandfleet;';

  it('passes output without a prefix through unchanged, ESC included', () => {
    expect(escapeAll(['plain \x1b[31mred\x1b[0m ', '\x1b]0;title\x07 ünï'])).toBe(
      'plain \x1b[31mred\x1b[0m \x1b]0;title\x07 ünï',
    );
  });

  it('escapes every prefix, so no real sequence is left', () => {
    const out = escapeAll([`a${prefix}tok;QUJD\x07b${prefix}${prefix}`]);
    expect(out).toBe(`a\u241b]sandfleet;tok;QUJD\x07b\u241b]sandfleet;\u241b]sandfleet;`);
    expect(out).not.toContain(prefix);
  });

  it('escapes a prefix split across every chunk boundary', () => {
    const whole = `x${prefix}y`;
    for (let cut = 0; cut <= whole.length; cut++) {
      expect(escapeAll([whole.slice(0, cut), whole.slice(cut)])).toBe('x\u241b]sandfleet;y');
    }
    expect(escapeAll([...whole])).toBe('x\u241b]sandfleet;y');
  });

  it('releases a partial prefix at the end as it was', () => {
    expect(escapeAll(['tail\x1b]sandf'])).toBe('tail\x1b]sandf');
  });
});
