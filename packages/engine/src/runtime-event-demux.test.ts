import { encodeRuntimeEvent, type RuntimeMessage } from '@sandfleet/contracts';
import { describe, expect, it } from 'vitest';
import { RuntimeEventDemux } from './runtime-event-demux.js';

async function demux(token: string, chunks: (string | Buffer)[]) {
  let text = '';
  const events: RuntimeMessage[] = [];
  const d = new RuntimeEventDemux(token, {
    text: (chunk) => {
      text += chunk.toString('utf8');
    },
    event: (message) => {
      events.push(message);
    },
  });
  for (const chunk of chunks) await d.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk, 'utf8'));
  await d.end();
  return { text, events };
}

describe('RuntimeEventDemux', () => {
  const token = 'tok123';
  const ready = encodeRuntimeEvent(token, { name: 'workspace.ready', data: { path: '/home/agent/x' } });
  const result = encodeRuntimeEvent(token, { name: 'result', data: { exitCode: 0 } });

  it('passes plain output through untouched', async () => {
    expect(await demux(token, ['hello\n', 'world ünïcode\n'])).toEqual({
      text: 'hello\nworld ünïcode\n',
      events: [],
    });
  });

  it('takes events out of the output, in order with the text around them', async () => {
    const { text, events } = await demux(token, [`before\n${ready}middle`, `\n${result}`]);
    expect(text).toBe('before\nmiddle\n');
    expect(events.map((e) => e.name)).toEqual(['workspace.ready', 'result']);
    expect(events[0]?.data).toEqual({ path: '/home/agent/x' });
  });

  it('finds events split across every possible chunk boundary', async () => {
    const whole = `a${ready}b${result}c`;
    const bytes = Buffer.from(whole, 'utf8');
    for (let cut = 1; cut < bytes.length; cut++) {
      const { text, events } = await demux(token, [bytes.subarray(0, cut), bytes.subarray(cut)]);
      expect(text).toBe('abc');
      expect(events).toHaveLength(2);
    }
  });

  it('leaves a sequence with another token as output, so a step cannot forge events', async () => {
    const forged = encodeRuntimeEvent('guess', { name: 'result', data: { exitCode: 0 } });
    expect(await demux(token, [`x${forged}y`])).toEqual({ text: `x${forged}y`, events: [] });
  });

  it('leaves an undecodable or unfinished sequence as output', async () => {
    const broken = '\x1b]sandfleet;tok123;!!!notbase64\x07';
    const unfinished = '\x1b]sandfleet;tok123;abc';
    expect(await demux(token, [broken, 'z', unfinished])).toEqual({
      text: `${broken}z${unfinished}`,
      events: [],
    });
  });
});
