import { describe, expect, it } from 'vitest';
import { EventWriter, encodeRuntimeEvent, fitResult, MAX_EVENT_BYTES } from './event-writer.js';

// biome-ignore lint/suspicious/noControlCharactersInRegex: the sequence is made of ESC and BEL.
const SEQUENCE = /^\x1b\]sandfleet;([^;]*);([A-Za-z0-9+/=]*)\x07$/;

function decode(sequence: string): { token: string; event: unknown } {
  const match = SEQUENCE.exec(sequence);
  if (match === null) throw new Error(`not an event sequence: ${JSON.stringify(sequence)}`);
  return {
    token: match[1] ?? '',
    event: JSON.parse(Buffer.from(match[2] ?? '', 'base64').toString('utf8')),
  };
}

describe('encodeRuntimeEvent', () => {
  it('is ESC ] sandfleet ; token ; base64 JSON of name and data, then BEL', () => {
    const data = { exitCode: 0, result: { ok: true } };
    expect(encodeRuntimeEvent('tok', 'result', data)).toBe(
      `\x1b]sandfleet;tok;${Buffer.from(JSON.stringify({ name: 'result', data })).toString('base64')}\x07`,
    );
  });

  it('keeps control characters and non-ASCII text of the data out of the sequence', () => {
    const reply = 'héllo \x07\x1b]0;title\x07 ; 🚀\n';
    const sequence = encodeRuntimeEvent('tok', 'result', { exitCode: 0, reply });
    expect(decode(sequence)).toEqual({
      token: 'tok',
      event: { name: 'result', data: { exitCode: 0, reply } },
    });
    expect(sequence.slice(1, -1)).not.toContain('\x07');
    expect(sequence.slice(1, -1)).not.toContain('\x1b');
  });
});

describe('EventWriter', () => {
  it('writes each event as one whole sequence', () => {
    const writes: string[] = [];
    const writer = new EventWriter({ out: { write: (chunk) => writes.push(chunk) }, token: 'tok' });
    writer.emit('git.push', { branch: 'run/R', sha: 'abc' });
    writer.emit('result', { exitCode: 3 });
    expect(writes.map((w) => decode(w).event)).toEqual([
      { name: 'git.push', data: { branch: 'run/R', sha: 'abc' } },
      { name: 'result', data: { exitCode: 3 } },
    ]);
  });

  it('writes nothing without a token', () => {
    const writes: string[] = [];
    const writer = new EventWriter({ out: { write: (chunk) => writes.push(chunk) }, token: undefined });
    writer.emit('result', { exitCode: 0 });
    expect(writes).toEqual([]);
  });
});

describe('fitResult', () => {
  const token = 'x'.repeat(48);

  it('leaves a result that fits as it is', () => {
    const data = { exitCode: 0, reply: 'hi', result: { reply: 'hi' }, commit: 'abc' };
    expect(fitResult(data)).toEqual({ data, cut: [] });
  });

  it('leaves out a result too large to fit, and keeps as much of the reply as fits', () => {
    const big = '"\u0001'.repeat(200 * 1024); // JSON-escapes to 8 bytes a pair
    const { data, cut } = fitResult({ exitCode: 0, reply: big, result: { text: big }, commit: 'abc' });
    expect(cut).toEqual(['result', 'reply']);
    expect(data.result).toBeUndefined();
    expect(data.reply?.length).toBeGreaterThan(50 * 1024);
    expect(big.startsWith(data.reply ?? 'x')).toBe(true);
    expect(encodeRuntimeEvent(token, 'result', data).length).toBeLessThanOrEqual(MAX_EVENT_BYTES);
    expect(data).toMatchObject({ exitCode: 0, commit: 'abc' });
  });

  it('keeps a result that fits by cutting the reply', () => {
    const { data, cut } = fitResult({ exitCode: 0, reply: 'r'.repeat(700 * 1024), result: { ok: true } });
    expect(cut).toEqual(['reply']);
    expect(data.result).toEqual({ ok: true });
    expect(encodeRuntimeEvent(token, 'result', data).length).toBeLessThanOrEqual(MAX_EVENT_BYTES);
  });
});
