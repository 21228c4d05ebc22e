import { encodeRuntimeEvent, MAX_RUNTIME_SEQUENCE_BYTES, type RuntimeMessage } from '@sandfleet/contracts';
import { describe, expect, it } from 'vitest';
import { RuntimeEventDemux } from './runtime-event-demux.js';

async function demux(token: string, chunks: (string | Buffer)[], maxEventBytes?: number) {
  let text = '';
  const events: RuntimeMessage[] = [];
  const d = new RuntimeEventDemux(
    token,
    {
      text: (chunk) => {
        text += chunk.toString('utf8');
      },
      event: (message) => {
        events.push(message);
      },
    },
    maxEventBytes === undefined ? {} : { maxEventBytes },
  );
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

  it('does not let a trailing partial prefix swallow the events after it', async () => {
    const prefix = '\x1b]sandfleet;';
    for (const junk of [prefix, `${prefix}${token}`, `${prefix}${token};abc`, `${prefix}guess;`]) {
      const { text, events } = await demux(token, [`out${junk}`, result]);
      expect(text).toBe(`out${junk}`);
      expect(events.map((e) => e.name)).toEqual(['result']);
      const whole = await demux(token, [`out${junk}${result}tail`]);
      expect(whole).toEqual({ text: `out${junk}tail`, events: [{ name: 'result', data: { exitCode: 0 } }] });
    }
  });

  it('finds events when the input comes one byte at a time', async () => {
    const bytes = Buffer.from(`a\x1b]sandfleet;${ready}b\x1b${result}c`, 'utf8');
    const chunks = [...bytes].map((byte) => Buffer.from([byte]));
    const { text, events } = await demux(token, chunks);
    expect(text).toBe('a\x1b]sandfleet;b\x1bc');
    expect(events.map((e) => e.name)).toEqual(['workspace.ready', 'result']);
  });

  it('takes a sequence longer than the bound for output', async () => {
    const long = `\x1b]sandfleet;${token};${'A'.repeat(MAX_RUNTIME_SEQUENCE_BYTES)}\x07`;
    const { text, events } = await demux(token, [long.slice(0, 1000), long.slice(1000), result]);
    expect(text).toBe(long);
    expect(events.map((e) => e.name)).toEqual(['result']);
  });

  it('drops events past the byte budget, counting them', async () => {
    const { text, events } = await demux(token, [ready, result], ready.length);
    expect(text).toBe('');
    expect(events.map((e) => e.name)).toEqual(['workspace.ready']);
  });

  it('demultiplexes 20 MiB of prefixes in under twice the time of 20 MiB of plain text', async () => {
    const size = 20 * 1024 * 1024;
    const flood = Buffer.from('\x1b]sandfleet;'.repeat(Math.ceil(size / 12)).slice(0, size), 'latin1');
    const plain = Buffer.from(
      'plain text line of output\n'.repeat(Math.ceil(size / 26)).slice(0, size),
      'latin1',
    );
    // Chunks as Docker's attach stream delivers them; the text handler decodes like the publisher.
    const time = async (input: Buffer): Promise<number> => {
      let bytes = 0;
      const d = new RuntimeEventDemux(token, {
        text: (chunk) => {
          bytes += chunk.toString('utf8').length;
        },
        event: () => {},
      });
      const start = performance.now();
      for (let at = 0; at < input.length; at += 64 * 1024) await d.push(input.subarray(at, at + 64 * 1024));
      await d.end();
      const ms = performance.now() - start;
      expect(bytes).toBe(input.length);
      return ms;
    };
    // Rounds interleaved, the best of each kept: this machine is shared, and a pause (GC, another
    // process) only ever makes a round slower. The old demultiplexer took seconds per 2 MiB here.
    let plainMs = Number.POSITIVE_INFINITY;
    let floodMs = Number.POSITIVE_INFINITY;
    for (let round = 0; round < 5; round++) {
      plainMs = Math.min(plainMs, await time(plain));
      floodMs = Math.min(floodMs, await time(flood));
    }
    expect(floodMs).toBeLessThan(2 * plainMs + 25);
  });
});
