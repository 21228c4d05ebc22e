import { DEFAULT_FLEET_NAMES, StepEvent } from '@sandfleet/contracts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventSubscriber, readEvents, StepEventPublisher, type StreamError } from '../src/index.js';
import { chunks, collect, TestRedis, waitFor } from './helpers.js';

let env: TestRedis;
beforeEach(() => {
  env = new TestRedis();
});
afterEach(async () => {
  expect(await env.cleanup()).toBe(0);
});

const MiB = 1024 * 1024;
const outputOf = (events: StepEvent[], stream?: 'stdout' | 'stderr') =>
  events
    .filter((event) => event.type === 'output' && (!stream || event.stream === stream))
    .map((event) => (event.type === 'output' ? event.data : ''))
    .join('');
const seqs = (events: StepEvent[]) => events.map((event) => event.seq);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('StepEventPublisher', () => {
  it('delivers 10,000 lines fed as small chunks exactly once and in order, live and by replay, coalesced into few events', async () => {
    const redis = env.client();
    const stepId = env.stepId();
    const subscriber = new EventSubscriber({ redis });
    const live = collect(subscriber.follow(stepId));
    await waitFor(async () => (await env.subscribers(DEFAULT_FLEET_NAMES.events(stepId))) === 1);

    const text = range(1, 10_000)
      .map((n) => `line ${n} ${'.'.repeat(n % 40)}\n`)
      .join('');
    const publisher = await StepEventPublisher.open({
      redis,
      stepId,
      secrets: [],
      outputLimitBytes: 10 * MiB,
    });
    await publisher.status({ status: 'running', attempt: 1 });
    for (const chunk of chunks(Buffer.from(text), 64)) await publisher.output('stdout', chunk);
    await publisher.finished({ status: 'succeeded', exitCode: 0 });

    const events = await live;
    for (const event of events) expect(StepEvent.parse(event)).toEqual(event);
    expect(seqs(events)).toEqual(range(1, events.length));
    expect(events[0]?.type).toBe('status');
    expect(events.at(-1)).toMatchObject({ type: 'finished', status: 'succeeded', exitCode: 0 });
    expect(outputOf(events)).toBe(text);
    expect(events.length).toBeLessThan(10_000 / 20);
    expect(publisher.capturedOutput).toBe(text);
    expect(publisher.lastSeq).toBe(events.length);

    expect(await readEvents({ redis, stepId })).toEqual(events);
    await subscriber.close();
  });

  it('drops output past the limit, publishes exactly one truncated event, and keeps exactly the first limit bytes', async () => {
    const redis = env.client();
    const stepId = env.stepId();
    const publisher = await StepEventPublisher.open({ redis, stepId, secrets: [], outputLimitBytes: 1000 });
    const text = range(1, 500)
      .map((n) => `${n}\n`)
      .join('');
    for (const chunk of chunks(Buffer.from(text), 37)) {
      await publisher.output('stdout', chunk);
      await publisher.output('stderr', Buffer.from('e'));
    }
    await publisher.finished({ status: 'failed', exitCode: 1 });

    const events = await readEvents({ redis, stepId });
    const truncated = events.filter((event) => event.type === 'truncated');
    expect(truncated).toEqual([expect.objectContaining({ type: 'truncated', limitBytes: 1000 })]);
    expect(events.slice(events.indexOf(truncated[0] as StepEvent) + 1).map((e) => e.type)).toEqual([
      'finished',
    ]);
    expect(Buffer.byteLength(publisher.capturedOutput)).toBe(1000);
    expect(outputOf(events)).toBe(publisher.capturedOutput);
    expect(publisher.capturedOutput.replaceAll('e', '')).toBe(
      text.slice(0, publisher.capturedOutput.replaceAll('e', '').length),
    );
    expect(publisher.truncated).toBe(true);
    expect(publisher.outputBytes).toBe(Buffer.byteLength(text) + [...chunks(Buffer.from(text), 37)].length);
  });

  it('keeps exactly the first limit bytes of a single stream that exceeds the cap', async () => {
    const redis = env.client();
    const stepId = env.stepId();
    const publisher = await StepEventPublisher.open({ redis, stepId, secrets: [], outputLimitBytes: 4096 });
    const text = 'abcdefghij'.repeat(1000);
    for (const chunk of chunks(Buffer.from(text), 100)) await publisher.output('stdout', chunk);
    await publisher.finished({ status: 'succeeded', exitCode: 0 });
    expect(publisher.capturedOutput).toBe(text.slice(0, 4096));
    expect(outputOf(await readEvents({ redis, stepId }))).toBe(text.slice(0, 4096));
    expect(publisher.outputBytes).toBe(10_000);
  });

  it('never lets a secret printed in output reach Redis or capturedOutput, even split across chunks or streams or base64-encoded', async () => {
    const redis = env.client();
    const stepId = env.stepId();
    const secret = `sk-live-${Math.random().toString(36).slice(2)}`;
    const forms = [
      secret,
      Buffer.from(secret).toString('base64').replace(/=+$/, ''),
      Buffer.from(secret).toString('base64url'),
    ];
    const publisher = await StepEventPublisher.open({
      redis,
      stepId,
      secrets: [secret, 'ab'],
      outputLimitBytes: MiB,
    });
    await publisher.status({ status: 'running', message: `using ${secret}` });
    const printed = Buffer.from(
      `token=${secret}\nbasic ${forms[1]}\nurl ${forms[2]}\nab is short, abc not\n`,
    );
    for (let at = 0; at < printed.length; at += 5)
      await publisher.output('stdout', printed.subarray(at, at + 5));
    await publisher.output('stdout', Buffer.from(`split ${secret.slice(0, 7)}`));
    await publisher.output('stderr', Buffer.from(`${secret.slice(7)}\n`));
    await publisher.output('stderr', Buffer.from(`ends with ${secret.slice(0, 6)}`));
    await publisher.output('stderr', Buffer.from(`${secret.slice(6)}`));
    await publisher.runtime('env', { TOKEN: secret, list: [secret] });
    await publisher.finished({ status: 'failed', exitCode: 2, error: `boom ${secret}` });

    const raw = JSON.stringify(await redis.xrange(DEFAULT_FLEET_NAMES.events(stepId), '-', '+'));
    for (const form of forms) {
      expect(raw).not.toContain(form);
      expect(publisher.capturedOutput).not.toContain(form);
    }
    // A secret of any length is masked (docs/security.md, "Redaction").
    expect(publisher.capturedOutput).toBe(
      'token=***\nbasic ***\nurl ***\n*** is short, ***c not\nsplit ***\nends with ***',
    );
    expect(raw).not.toContain('ab is short');
  });

  it('continues seq after the last event when a second publisher opens the same step', async () => {
    const redis = env.client();
    const stepId = env.stepId();
    const first = await StepEventPublisher.open({ redis, stepId, secrets: [], outputLimitBytes: MiB });
    await first.status({ status: 'running', attempt: 1 });
    await first.output('stdout', Buffer.from('attempt one\n'));
    await first.close();
    await first.close();

    const second = await StepEventPublisher.open({ redis, stepId, secrets: [], outputLimitBytes: MiB });
    expect(second.lastSeq).toBe(first.lastSeq);
    await second.status({ status: 'running', attempt: 2 });
    await second.output('stdout', Buffer.from('attempt two\n'));
    await second.finished({ status: 'succeeded', exitCode: 0 });

    const events = await readEvents({ redis, stepId });
    expect(seqs(events)).toEqual(range(1, 5));
    expect(outputOf(events)).toBe('attempt one\nattempt two\n');
  });

  it('expires the replay stream finishedTtlSeconds after finished, and nothing reopens a finished step', async () => {
    const redis = env.client();
    const stepId = env.stepId();
    const publisher = await StepEventPublisher.open({
      redis,
      stepId,
      secrets: [],
      outputLimitBytes: MiB,
      finishedTtlSeconds: 120,
    });
    await publisher.status({ status: 'running' });
    expect(await redis.ttl(DEFAULT_FLEET_NAMES.events(stepId))).toBe(-1);
    await publisher.finished({ status: 'succeeded', exitCode: 0 });
    const ttl = await redis.ttl(DEFAULT_FLEET_NAMES.events(stepId));
    expect(ttl).toBeGreaterThan(100);
    expect(ttl).toBeLessThanOrEqual(120);

    await expect(
      StepEventPublisher.open({ redis, stepId, secrets: [], outputLimitBytes: MiB }),
    ).rejects.toMatchObject({ code: 'STREAM_ATTEMPT_FENCED' });
    expect(await redis.ttl(DEFAULT_FLEET_NAMES.events(stepId))).toBeGreaterThan(100);
  });

  it('cuts a new output event whenever output switches between stdout and stderr, keeping their order', async () => {
    const redis = env.client();
    const stepId = env.stepId();
    const publisher = await StepEventPublisher.open({ redis, stepId, secrets: [], outputLimitBytes: MiB });
    await publisher.output('stdout', Buffer.from('a1'));
    await publisher.output('stdout', Buffer.from('a2'));
    await publisher.output('stderr', Buffer.from('b1'));
    await publisher.output('stdout', Buffer.from('a3'));
    await publisher.finished({ status: 'succeeded', exitCode: 0 });
    const events = await readEvents({ redis, stepId });
    expect(events.map((e) => (e.type === 'output' ? `${e.stream}:${e.data}` : e.type))).toEqual([
      'stdout:a1a2',
      'stderr:b1',
      'stdout:a3',
      'finished',
    ]);
    expect(publisher.capturedOutput).toBe('a1a2b1a3');
  });

  it('publishes status and runtime events after the output printed before them', async () => {
    const redis = env.client();
    const stepId = env.stepId();
    const publisher = await StepEventPublisher.open({ redis, stepId, secrets: [], outputLimitBytes: MiB });
    await publisher.output('stdout', Buffer.from('before status'));
    await publisher.status({ status: 'running' });
    await publisher.output('stderr', Buffer.from('before runtime'));
    await publisher.runtime('result', { ok: true });
    await publisher.finished({ status: 'succeeded', exitCode: 0 });
    const events = await readEvents({ redis, stepId });
    expect(events.map((e) => e.type)).toEqual(['output', 'status', 'output', 'runtime', 'finished']);
    expect(seqs(events)).toEqual(range(1, 5));
  });

  it('decodes a UTF-8 character split across chunks whole', async () => {
    const redis = env.client();
    const stepId = env.stepId();
    const publisher = await StepEventPublisher.open({ redis, stepId, secrets: [], outputLimitBytes: MiB });
    const bytes = Buffer.from('héllo → 🚀 done');
    for (let at = 0; at < bytes.length; at++) await publisher.output('stdout', bytes.subarray(at, at + 1));
    await publisher.finished({ status: 'succeeded', exitCode: 0 });
    expect(outputOf(await readEvents({ redis, stepId }))).toBe('héllo → 🚀 done');
  });

  it('writes a small output within the flush interval without further calls', async () => {
    const redis = env.client();
    const stepId = env.stepId();
    const publisher = await StepEventPublisher.open({ redis, stepId, secrets: [], outputLimitBytes: MiB });
    await publisher.output('stdout', Buffer.from('prompt> '));
    await waitFor(async () => (await readEvents({ redis, stepId })).length === 1, 1000);
    await publisher.close();
  });

  it('makes output() wait while a batch is in flight and maxPendingBytes more are queued', async () => {
    const redis = env.client();
    const admin = env.client();
    const stepId = env.stepId();
    const publisher = await StepEventPublisher.open({
      redis,
      stepId,
      secrets: [],
      outputLimitBytes: MiB,
      flushBytes: 1024,
      maxPendingBytes: 2048,
    });
    const block = Buffer.alloc(1024, 'x');
    await admin.client('PAUSE', 300, 'WRITE');
    const started = Date.now();
    // The first event goes out (and hangs on the paused server); the next ones queue behind it.
    await publisher.output('stdout', block);
    await publisher.output('stdout', block);
    expect(Date.now() - started).toBeLessThan(250);
    await publisher.output('stdout', block);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    await publisher.finished({ status: 'succeeded', exitCode: 0 });
    expect(outputOf(await readEvents({ redis, stepId }))).toBe('x'.repeat(3072));
  });

  it('rejects every later call with STREAM_WRITE_FAILED once a write failed, and still closes', async () => {
    const redis = env.client();
    const stepId = env.stepId();
    const publisher = await StepEventPublisher.open({ redis, stepId, secrets: [], outputLimitBytes: MiB });
    await redis.set(DEFAULT_FLEET_NAMES.events(stepId), 'not a stream');
    await expect(publisher.status({ status: 'running' })).rejects.toMatchObject({
      code: 'STREAM_WRITE_FAILED',
      retryable: true,
    });
    await expect(publisher.output('stdout', Buffer.from('x'))).rejects.toMatchObject({
      code: 'STREAM_WRITE_FAILED',
    });
    await expect(publisher.close()).resolves.toBeUndefined();
  });

  it('rejects calls after finished with STREAM_PUBLISHER_CLOSED', async () => {
    const redis = env.client();
    const stepId = env.stepId();
    const publisher = await StepEventPublisher.open({ redis, stepId, secrets: [], outputLimitBytes: MiB });
    await publisher.finished({ status: 'cancelled', exitCode: null });
    const error: StreamError = await publisher.output('stdout', Buffer.from('late')).catch((e) => e);
    expect(error.code).toBe('STREAM_PUBLISHER_CLOSED');
    await expect(publisher.finished({ status: 'cancelled', exitCode: null })).rejects.toMatchObject({
      code: 'STREAM_PUBLISHER_CLOSED',
    });
    await publisher.flush();
    await publisher.close();
  });

  it('rejects out-of-range options with STREAM_OPTIONS_INVALID', async () => {
    const redis = env.client();
    await expect(
      StepEventPublisher.open({ redis, stepId: env.stepId(), secrets: [], outputLimitBytes: -1 }),
    ).rejects.toMatchObject({ code: 'STREAM_OPTIONS_INVALID' });
    await expect(
      StepEventPublisher.open({
        redis,
        stepId: env.stepId(),
        secrets: [],
        outputLimitBytes: MiB,
        maxPendingBytes: 0,
      }),
    ).rejects.toMatchObject({
      code: 'STREAM_OPTIONS_INVALID',
      message: expect.stringContaining('maxPendingBytes'),
    });
  });
});
