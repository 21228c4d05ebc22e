import { describe, expect, it } from 'vitest';
import { type CapturedText, OutputCapture, truncateUtf8 } from './output-capture.js';
import { Redactor } from './redactor.js';

const capture = (limitBytes: number, secrets: string[] = []) =>
  new OutputCapture({ redactor: new Redactor(secrets), limitBytes });
const text = (captured: readonly CapturedText[]) => captured.map((part) => part.text).join('');

describe('OutputCapture', () => {
  it('decodes characters split across chunks of the same stream whole, with streams kept apart', () => {
    const output = capture(1000);
    const snowman = Buffer.from('☃');
    expect(output.write('stdout', snowman.subarray(0, 1))).toEqual([]);
    expect(output.write('stderr', Buffer.from('err'))).toEqual([
      { stream: 'stderr', text: 'err', bytes: 3, hitLimit: false },
    ]);
    expect(text(output.write('stdout', snowman.subarray(1)))).toBe('☃');
    expect(output.captured).toBe('err☃');
  });

  it('cuts at the limit on a character boundary and reports the hit exactly once', () => {
    const output = capture(5);
    expect(output.write('stdout', Buffer.from('abcd'))).toEqual([
      { stream: 'stdout', text: 'abcd', bytes: 4, hitLimit: false },
    ]);
    expect(output.write('stdout', Buffer.from('é!'))).toEqual([
      { stream: 'stdout', text: '', bytes: 0, hitLimit: true },
    ]);
    expect(output.write('stdout', Buffer.from('more'))).toEqual([]);
    expect(output.captured).toBe('abcd');
    expect(output.truncated).toBe(true);
    expect(output.rawBytes).toBe(11);
  });

  it('releases held-back text and a trailing partial character at the end', () => {
    const output = capture(100, ['hunter22']);
    expect(text(output.write('stdout', Buffer.from('x hunt')))).toBe('x ');
    expect(text(output.write('stdout', Buffer.from([0xe2, 0x98])))).toBe('');
    expect(output.end()).toEqual([{ stream: 'stdout', text: 'hunt\ufffd', bytes: 7, hitLimit: false }]);
  });

  it('catches a secret whose first half goes to stdout and second half to stderr', () => {
    const output = capture(1000, ['hunter22-abc']);
    const parts = [
      ...output.write('stdout', Buffer.from('a hunter')),
      ...output.write('stderr', Buffer.from('22-abc b\n')),
      ...output.write('stdout', Buffer.from('c\n')),
      ...output.end(),
    ];
    expect(output.captured).not.toMatch(/hunter|22-abc/);
    expect(
      parts
        .filter((part) => part.stream === 'stdout')
        .map((part) => part.text)
        .join(''),
    ).toBe('a ***c\n');
    expect(
      parts
        .filter((part) => part.stream === 'stderr')
        .map((part) => part.text)
        .join(''),
    ).toBe(' b\n');
  });

  it('still catches a secret split across two writes of one stream with the other stream between', () => {
    const output = capture(1000, ['hunter22-abc']);
    output.write('stdout', Buffer.from('a hunter'));
    output.write('stderr', Buffer.from('noise\n'));
    output.write('stdout', Buffer.from('22-abc b\n'));
    output.end();
    expect(output.captured).not.toMatch(/hunter|22-abc/);
    expect(output.captured).toContain('***');
  });

  it("keeps each stream's text in its stream when there is nothing to redact", () => {
    const output = capture(1000, ['zzzz']);
    const parts = [
      ...output.write('stdout', Buffer.from('out z')),
      ...output.write('stderr', Buffer.from('err')),
      ...output.end(),
    ];
    expect(parts.map(({ stream, text }) => [stream, text])).toEqual([
      ['stdout', 'out '],
      ['stderr', 'err'],
      ['stdout', 'z'],
    ]);
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
