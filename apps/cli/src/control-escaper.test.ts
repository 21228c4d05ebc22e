import { describe, expect, it } from 'vitest';
import { ControlEscaper, escapeControls } from './control-escaper.js';

const ESC = '\x1b';
const OSC52 = `${ESC}]52;c;ZXZpbA==\x07`;

const through = (escaper: ControlEscaper, chunks: readonly string[]) =>
  chunks.map((chunk) => escaper.write(chunk)).join('') + escaper.end();

describe('escapeControls', () => {
  it('shows a clipboard write, a title, a screen clear and C1 controls as visible text', () => {
    expect(escapeControls(`a${OSC52}b`)).toBe('a\\x1b]52;c;ZXZpbA==\\x07b');
    expect(escapeControls(`${ESC}]0;pwned${ESC}\\`)).toBe('\\x1b]0;pwned\\x1b\\');
    expect(escapeControls(`${ESC}[2J${ESC}[H`)).toBe('\\x1b[2J\\x1b[H');
    expect(escapeControls('\x9b2J\x9d0;t\x07\x7f\r\b\0')).toBe('\\x9b2J\\x9d0;t\\x07\\x7f\\x0d\\x08\\x00');
  });

  it('keeps newlines, tabs and every printable character, non-ASCII included', () => {
    const text = 'line 1\n\tindented é 日本 🙂 \\x1b literal\n';
    expect(escapeControls(text)).toBe(text);
  });
});

describe('ControlEscaper', () => {
  it('escapes colours too when not on a terminal', () => {
    expect(through(new ControlEscaper(), [`${ESC}[31mred${ESC}[0m`])).toBe('\\x1b[31mred\\x1b[0m');
  });

  it('on a terminal passes SGR colours but escapes every other sequence', () => {
    const escaper = new ControlEscaper({ keepSgr: true });
    expect(through(escaper, [`${ESC}[1;38;2;255:0:0mred${ESC}[0m ${ESC}[2J${OSC52}`])).toBe(
      `${ESC}[1;38;2;255:0:0mred${ESC}[0m \\x1b[2J\\x1b]52;c;ZXZpbA==\\x07`,
    );
  });

  it('holds an SGR sequence split between chunks until it is whole, and escapes one that turns out not to be', () => {
    const escaper = new ControlEscaper({ keepSgr: true });
    expect(escaper.write(`ok ${ESC}`)).toBe('ok ');
    expect(escaper.write('[3')).toBe('');
    expect(escaper.write('1mred')).toBe(`${ESC}[31mred`);
    expect(escaper.write(`${ESC}[`)).toBe('');
    expect(escaper.write('2J')).toBe('\\x1b[2J');
    expect(escaper.write(ESC)).toBe('');
    expect(escaper.write(']52;c;eA==\x07')).toBe('\\x1b]52;c;eA==\\x07');
    expect(escaper.write(`${ESC}[1`)).toBe('');
    expect(escaper.end()).toBe('\\x1b[1');
  });

  it('escapes an OSC 52 split at every possible point, with and without colours kept', () => {
    const text = `before ${OSC52} after\n`;
    for (const keepSgr of [false, true]) {
      for (let at = 0; at <= text.length; at += 1) {
        const out = through(new ControlEscaper({ keepSgr }), [text.slice(0, at), text.slice(at)]);
        expect(out, `split at ${at}`).toBe('before \\x1b]52;c;ZXZpbA==\\x07 after\n');
      }
    }
  });

  it('does not hold back a never-ending parameter list', () => {
    const escaper = new ControlEscaper({ keepSgr: true });
    const long = `${ESC}[${'1;'.repeat(40)}`;
    expect(escaper.write(long)).toBe(`\\x1b[${'1;'.repeat(40)}`);
  });
});
