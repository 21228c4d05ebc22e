import { describe, expect, it } from 'vitest';
import { OutputCapture, truncateUtf8 } from './output-capture.js';
import { Redactor } from './redactor.js';

const capture = (limitBytes: number, secrets: string[] = []) =>
  new OutputCapture({ redactor: new Redactor(secrets), limitBytes });

describe('OutputCapture', () => {
  it('decodes characters split across chunks of the same stream whole, with streams kept apart', () => {
    const output = capture(1000);
    const snowman = Buffer.from('☃');
    expect(output.write('stdout', snowman.subarray(0, 1)).text).toBe('');
    expect(output.write('stderr', Buffer.from('err')).text).toBe('err');
    expect(output.write('stdout', snowman.subarray(1)).text).toBe('☃');
    expect(output.captured).toBe('err☃');
  });

  it('cuts at the limit on a character boundary and reports the hit exactly once', () => {
    const output = capture(5);
    expect(output.write('stdout', Buffer.from('abcd'))).toEqual({ text: 'abcd', bytes: 4, hitLimit: false });
    expect(output.write('stdout', Buffer.from('é!'))).toEqual({ text: '', bytes: 0, hitLimit: true });
    expect(output.write('stdout', Buffer.from('more'))).toEqual({ text: '', bytes: 0, hitLimit: false });
    expect(output.captured).toBe('abcd');
    expect(output.truncated).toBe(true);
    expect(output.rawBytes).toBe(11);
  });

  it('releases held-back text and a trailing partial character at the end', () => {
    const output = capture(100, ['hunter22']);
    expect(output.write('stdout', Buffer.from('x hunt')).text).toBe('x ');
    expect(output.write('stdout', Buffer.from([0xe2, 0x98])).text).toBe('');
    expect(output.end('stdout').text).toBe('hunt\ufffd');
  });
});

describe('truncateUtf8', () => {
  it('keeps the longest prefix that fits without splitting a character', () => {
    expect(truncateUtf8('aé🚀', 1)).toBe('a');
    expect(truncateUtf8('aé🚀', 2)).toBe('a');
    expect(truncateUtf8('aé🚀', 3)).toBe('aé');
    expect(truncateUtf8('aé🚀', 6)).toBe('aé');
    expect(truncateUtf8('aé🚀', 7)).toBe('aé🚀');
    expect(truncateUtf8('abc', 0)).toBe('');
  });
});
