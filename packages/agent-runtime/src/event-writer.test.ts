import { encodeRuntimeEvent, MAX_RUNTIME_EVENT_BYTES } from '@sandfleet/contracts';
import { describe, expect, it } from 'vitest';
import { EventWriter, fitResult } from './event-writer.js';

describe('EventWriter', () => {
  it("writes each event as one whole sequence of the contracts' encoding", () => {
    const writes: string[] = [];
    const writer = new EventWriter({ out: { write: (chunk) => writes.push(chunk) }, token: 'tok' });
    writer.emit('git.push', { branch: 'run/R', sha: 'abc' });
    writer.emit('result', { exitCode: 3 });
    expect(writes).toEqual([
      encodeRuntimeEvent('tok', { name: 'git.push', data: { branch: 'run/R', sha: 'abc' } }),
      encodeRuntimeEvent('tok', { name: 'result', data: { exitCode: 3 } }),
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
    expect(encodeRuntimeEvent(token, { name: 'result', data: data }).length).toBeLessThanOrEqual(
      MAX_RUNTIME_EVENT_BYTES,
    );
    expect(data).toMatchObject({ exitCode: 0, commit: 'abc' });
  });

  it('keeps a result that fits by cutting the reply', () => {
    const { data, cut } = fitResult({ exitCode: 0, reply: 'r'.repeat(700 * 1024), result: { ok: true } });
    expect(cut).toEqual(['reply']);
    expect(data.result).toEqual({ ok: true });
    expect(encodeRuntimeEvent(token, { name: 'result', data: data }).length).toBeLessThanOrEqual(
      MAX_RUNTIME_EVENT_BYTES,
    );
  });
});
