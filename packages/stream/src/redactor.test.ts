import { describe, expect, it } from 'vitest';
import { MIN_SECRET_LENGTH, REDACTED, Redactor } from './redactor.js';

const b64 = (text: string) => Buffer.from(text).toString('base64');
const b64url = (text: string) => Buffer.from(text).toString('base64url');

/** Feeds `text` through a redaction stream cut at the given offsets. */
function streamed(redactor: Redactor, text: string, cuts: number[]): string {
  const stream = redactor.stream();
  let out = '';
  let from = 0;
  for (const cut of [...cuts, text.length]) {
    out += stream.push(text.slice(from, cut));
    from = cut;
  }
  return out + stream.end();
}

/** Every way of cutting `text` into two pieces and into three pieces. */
function* cutsOf(text: string): Generator<number[]> {
  for (let a = 0; a <= text.length; a++) {
    yield [a];
    for (let b = a; b <= text.length; b++) yield [a, b];
  }
}

describe('Redactor', () => {
  it('replaces a secret value with the marker wherever it occurs', () => {
    const redactor = new Redactor(['hunter22']);
    expect(redactor.redact('pw=hunter22; again hunter22.')).toBe(`pw=${REDACTED}; again ${REDACTED}.`);
  });

  it('replaces the standard and url-safe base64 forms of a secret, padded or not', () => {
    const secret = 's3cr3t?>?';
    const redactor = new Redactor([secret]);
    expect(b64(secret)).not.toBe(b64url(secret));
    expect(redactor.redact(`a ${b64(secret)} b ${b64url(secret)} c`)).toBe(`a ${REDACTED} b ${REDACTED} c`);
    expect(redactor.redact(`Authorization: Basic ${b64('tok-1234')}`)).toContain(b64('tok-1234'));
    const padded = new Redactor(['tok-1234']);
    expect(b64('tok-1234')).toMatch(/=$/);
    expect(padded.redact(`x ${b64('tok-1234')}`)).toBe(`x ${REDACTED}`);
  });

  it('replaces base64 at offsets 1 and 2, hex and %-encoding of a secret', () => {
    const secret = 'tok-1234-xyz';
    const redactor = new Redactor([secret]);
    for (const prefix of ['u:', 'us:', 'user:']) {
      const encoded = b64(`${prefix}${secret}@host`);
      expect(redactor.redact(encoded)).toContain(REDACTED);
      expect(redactor.redact(encoded)).not.toContain(encoded.slice(4, 16));
    }
    const hex = Buffer.from(secret).toString('hex');
    expect(redactor.redact(`${hex} ${hex.toUpperCase()} ${hex.replace(/../g, '%$&')}`)).toBe(
      `${REDACTED} ${REDACTED} ${REDACTED}`,
    );
  });

  it('redacts secrets of any length, and leaves empty ones alone', () => {
    expect(new Redactor(['']).enabled).toBe(false);
    expect(new Redactor(['', 'k9!']).redact('say k9! now')).toBe(`say ${REDACTED} now`);
    expect(MIN_SECRET_LENGTH).toBe(1);
  });

  it('merges overlapping and adjacent secrets into one marker so no fragment survives', () => {
    const redactor = new Redactor(['abcdef', 'defghi', 'secret', 'secret-longer']);
    expect(redactor.redact('[abcdefghi]')).toBe(`[${REDACTED}]`);
    expect(redactor.redact('[secret-longer]')).toBe(`[${REDACTED}]`);
    expect(redactor.redact('[abcdefsecret]')).toBe(`[${REDACTED}]`);
    expect(redactor.redact('aaaaaa')).toBe('aaaaaa');
    expect(new Redactor(['aaaa']).redact('aaaaaaa!')).toBe(`${REDACTED}!`);
  });

  it('redacts every string inside a JSON value and leaves other values unchanged', () => {
    const redactor = new Redactor(['hunter22']);
    const value = { message: 'pw hunter22', list: ['hunter22', 3, null, true], nested: { ok: 'fine' } };
    expect(redactor.redactValue(value)).toEqual({
      message: `pw ${REDACTED}`,
      list: [REDACTED, 3, null, true],
      nested: { ok: 'fine' },
    });
    expect(value.message).toBe('pw hunter22');
  });
});

describe('RedactionStream', () => {
  const secrets = ['abcdef', 'defghi', 'secret', 'secret-longer', 'ééé€'];
  const redactor = new Redactor(secrets);
  const text = `x abcdefghi y secret-longer z ${b64('secret')} w secretsecret ééé€ ${b64url('ééé€')} end`;

  it('catches a secret split across chunks at every possible cut', () => {
    const whole = redactor.redact(text);
    for (const secret of secrets) expect(whole).not.toContain(secret);
    for (const cuts of cutsOf(text)) {
      const out = streamed(redactor, text, cuts);
      expect(out, `cuts ${cuts.join(',')}`).toBe(whole);
    }
  });

  it('never emits a secret from random text cut at random places', () => {
    let seed = 42;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const pieces = [...secrets, 'abc', 'def', 'sec', 'ret', 'é', ' ', 'x', b64('secret').slice(0, 5)];
    for (let round = 0; round < 300; round++) {
      let input = '';
      while (input.length < 80) input += pieces[Math.floor(random() * pieces.length)];
      const cuts = [0, 0, 0, 0].map(() => Math.floor(random() * input.length)).sort((a, b) => a - b);
      const out = streamed(redactor, input, cuts);
      expect(out).toBe(redactor.redact(input));
      for (const pattern of redactor.patterns) expect(out).not.toContain(pattern);
    }
  });

  it('catches a secret fed one character at a time', () => {
    const stream = redactor.stream();
    let out = '';
    for (const char of 'pre hunter22 post') out += stream.push(char);
    out += stream.end();
    expect(out).toBe('pre hunter22 post');
    const one = new Redactor(['hunter22']).stream();
    let redacted = '';
    for (const char of 'pre hunter22 post') redacted += one.push(char);
    expect(redacted + one.end()).toBe(`pre ${REDACTED} post`);
  });

  it('holds back only a tail that could start a secret, never more than the longest pattern minus one', () => {
    const stream = new Redactor(['hunter22']).stream();
    const longest = Math.max(...new Redactor(['hunter22']).patterns.map((p) => p.length));
    expect(stream.push('nothing to hide\n')).toBe('nothing to hide\n');
    expect(stream.heldBack).toBe(0);
    expect(stream.push('password: hunt')).toBe('password: ');
    expect(stream.heldBack).toBe(4);
    expect(stream.heldBack).toBeLessThanOrEqual(longest - 1);
    expect(stream.push('er')).toBe('');
    expect(stream.push('!')).toBe('hunter!');
    expect(stream.end()).toBe('');
  });

  it('releases the held-back tail at the end', () => {
    const stream = new Redactor(['hunter22']).stream();
    expect(stream.push('ends with hunter2')).toBe('ends with ');
    expect(stream.end()).toBe('hunter2');
  });

  it('returns text unchanged and holds nothing back when there are no secrets', () => {
    const stream = new Redactor([]).stream();
    expect(stream.push('abc')).toBe('abc');
    expect(stream.end()).toBe('');
  });
});
