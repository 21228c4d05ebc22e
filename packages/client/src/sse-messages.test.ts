import { describe, expect, it } from 'vitest';
import { ApiError } from './errors.js';
import { readSseMessages } from './sse-messages.js';
import { toStepEvent } from './step-event-stream.js';

/** A body delivering `chunks` one by one (strings as UTF-8, byte arrays as they are). */
function body(chunks: (string | Uint8Array)[], error?: Error): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let index = 0;
  return new ReadableStream({
    pull(controller) {
      const chunk = chunks[index++];
      if (chunk === undefined) {
        if (error) controller.error(error);
        else controller.close();
        return;
      }
      controller.enqueue(typeof chunk === 'string' ? encoder.encode(chunk) : chunk);
    },
  });
}

async function collect(stream: ReadableStream<Uint8Array>) {
  const messages = [];
  for await (const message of readSseMessages(stream)) messages.push(message);
  return messages;
}

const event = (seq: number, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ stepId: 's1', seq, ts: '2025-01-01T00:00:00.000Z', ...extra });

describe('readSseMessages', () => {
  it('reassembles messages split anywhere, even inside a UTF-8 character and a CRLF pair', async () => {
    const text = `id: 1\r\nevent: output\r\ndata: ${event(1, { type: 'output', stream: 'stdout', data: 'héllo ✓\n' })}\r\n\r\n`;
    const bytes = new TextEncoder().encode(text);
    // One byte at a time: every possible split point at once.
    const chunks = [...bytes].map((byte) => Uint8Array.of(byte));
    const messages = await collect(body(chunks));
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({ id: '1', event: 'output' });
    expect(JSON.parse(messages[0]?.data ?? '')).toMatchObject({ data: 'héllo ✓\n' });
  });

  it('skips comments and heartbeats and joins multi-line data with newlines', async () => {
    const messages = await collect(
      body([': connected\n\n', ': heartbeat\n\nid: 7\nevent: x\ndata: a\ndata: b\n\n', 'retry: nope\n\n']),
    );
    expect(messages).toEqual([{ id: '7', event: 'x', data: 'a\nb' }]);
  });

  it('drops an event the body cut off before its blank line', async () => {
    const messages = await collect(body(['id: 1\ndata: {"a":1}\n\n', 'id: 2\ndata: {"a":2}\n']));
    expect(messages.map((m) => m.id)).toEqual(['1']);
  });

  it('yields what came before a broken connection, then throws its error', async () => {
    const seen: string[] = [];
    const broken = readSseMessages(body(['id: 1\ndata: x\n\nid: 2\nda'], new TypeError('terminated')));
    await expect(
      (async () => {
        for await (const message of broken) seen.push(message.id ?? '');
      })(),
    ).rejects.toThrow('terminated');
    expect(seen).toEqual(['1']);
  });

  it('fails with INVALID_EVENT when one event outgrows the buffer limit', async () => {
    const stream = readSseMessages(body([`data: ${'x'.repeat(100)}`, 'x'.repeat(100)]), {
      maxBufferSize: 64,
    });
    await expect(stream.next()).rejects.toMatchObject({ code: 'INVALID_EVENT' });
  });
});

describe('toStepEvent', () => {
  it('validates an event against the StepEvent contract', () => {
    const data = event(3, { type: 'finished', status: 'succeeded', exitCode: 0 });
    expect(toStepEvent({ data }, 's1')).toEqual({ seq: 3, event: JSON.parse(data) });
  });

  it('skips an event of a type newer than this client, keeping its seq', () => {
    expect(toStepEvent({ data: event(4, { type: 'progress', percent: 50 }) }, 's1')).toEqual({ seq: 4 });
  });

  it.each([
    ['not JSON', 'not json'],
    ['a known type with a bad field', event(2, { type: 'output', stream: 'stdnothing', data: 'x' })],
    ['no seq', JSON.stringify({ type: 'progress' })],
  ])('refuses %s with INVALID_EVENT', (_what, data) => {
    expect(() => toStepEvent({ data }, 's1')).toThrow(ApiError);
    try {
      toStepEvent({ data }, 's1');
    } catch (error) {
      expect(error).toMatchObject({ code: 'INVALID_EVENT', retryable: false });
    }
  });
});
