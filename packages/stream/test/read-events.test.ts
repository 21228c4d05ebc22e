import { DEFAULT_FLEET_NAMES, type StepEvent } from '@sandfleet/contracts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readEvents, replayEvents, StepEventPublisher, type StreamError } from '../src/index.js';
import { collect, TestRedis } from './helpers.js';

let env: TestRedis;
beforeEach(() => {
  env = new TestRedis();
});
afterEach(async () => {
  expect(await env.cleanup()).toBe(0);
});

const seqs = (events: StepEvent[]) => events.map((event) => event.seq);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('readEvents', () => {
  it('returns an empty list for a step without events', async () => {
    expect(await readEvents({ redis: env.client(), stepId: env.stepId() })).toEqual([]);
  });

  it('returns exactly the events after afterSeq, whether the resume point is near the end or far back', async () => {
    const redis = env.client();
    const stepId = env.stepId();
    const publisher = await StepEventPublisher.open({
      redis,
      stepId,
      secrets: [],
      outputLimitBytes: 1024 * 1024,
      flushBytes: 1,
    });
    for (let i = 0; i < 5000; i++) await publisher.output('stdout', Buffer.from(`${i}\n`));
    await publisher.finished({ status: 'succeeded', exitCode: 0 });
    const last = publisher.lastSeq;
    expect(last).toBe(5001);

    expect(seqs(await readEvents({ redis, stepId }))).toEqual(range(1, last));
    expect(seqs(await readEvents({ redis, stepId, afterSeq: last - 3 }))).toEqual(range(last - 2, last));
    expect(seqs(await readEvents({ redis, stepId, afterSeq: 700 }))).toEqual(range(701, last));
    expect(seqs(await readEvents({ redis, stepId, afterSeq: 10 }))).toEqual(range(11, last));
    expect(seqs(await collect(replayEvents({ redis, stepId, afterSeq: last })))).toEqual([]);
  });

  it('throws STREAM_EVENT_INVALID for a stream entry that is not a contract event', async () => {
    const redis = env.client();
    const stepId = env.stepId();
    await redis.xadd(
      DEFAULT_FLEET_NAMES.events(stepId),
      '*',
      'e',
      JSON.stringify({ stepId, seq: 0, type: 'nope' }),
    );
    const error: StreamError = await readEvents({ redis, stepId }).catch((e) => e);
    expect(error.code).toBe('STREAM_EVENT_INVALID');
    expect(error.retryable).toBe(false);
  });
});
