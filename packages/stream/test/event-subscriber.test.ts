import { DEFAULT_FLEET_NAMES, type StepEvent } from '@sandfleet/contracts';
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventSubscriber, StepEventPublisher, type StreamError } from '../src/index.js';
import { collect, TestRedis, waitFor } from './helpers.js';

let env: TestRedis;
beforeEach(() => {
  env = new TestRedis();
});
afterEach(async () => {
  expect(await env.cleanup()).toBe(0);
});

const seqs = (events: StepEvent[]) => events.map((event) => event.seq);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const open = (redis: Redis, stepId: string) =>
  StepEventPublisher.open({ redis, stepId, secrets: [], outputLimitBytes: 1024 * 1024 });

/** Publishes `count` runtime events. */
async function publishRuntime(publisher: StepEventPublisher, count: number): Promise<void> {
  for (let i = 0; i < count; i++) await publisher.runtime('tick', { i });
}

describe('EventSubscriber', () => {
  it('follows live when it subscribes while its connection runs the ready check', async () => {
    const redis = env.client();
    const stepId = env.stepId();
    // The moment ioredis is connected but not ready: a SUBSCRIBE written now used to fail the
    // ready check and lose the subscription (the CLI's `logs -f` then missed `finished`).
    const connection = redis.duplicate();
    await new Promise((resolve) => connection.once('connect', resolve));
    expect(connection.status).toBe('connect');
    const subscriber = new EventSubscriber({ redis, subscriber: connection });
    const followed = collect(subscriber.follow(stepId));
    await waitFor(async () => (await env.subscribers(DEFAULT_FLEET_NAMES.events(stepId))) === 1);
    const publisher = await open(redis, stepId);
    await publisher.output('stdout', Buffer.from('live\n'));
    await publisher.finished({ status: 'succeeded', exitCode: 0 });
    expect((await followed).map((event) => event.type)).toEqual(['output', 'finished']);
    await subscriber.close();
    await connection.quit();
  });

  it('gives a follower joining mid-stream with afterSeq=k exactly the events k+1..end', async () => {
    const redis = env.client();
    const stepId = env.stepId();
    const subscriber = new EventSubscriber({ redis });
    const publisher = await open(redis, stepId);
    await publishRuntime(publisher, 10);

    const followed = collect(subscriber.follow(stepId, { afterSeq: 7 }));
    await waitFor(async () => (await env.subscribers(DEFAULT_FLEET_NAMES.events(stepId))) === 1);
    for (let i = 0; i < 200; i++) await publisher.output('stdout', Buffer.from(`${i}\n`));
    await publishRuntime(publisher, 10);
    await publisher.finished({ status: 'succeeded', exitCode: 0 });

    const events = await followed;
    expect(seqs(events)).toEqual(range(8, publisher.lastSeq));
    expect(events.at(-1)?.type).toBe('finished');
    await subscriber.close();
  });

  it('gives followers joining at any moment during publishing every event exactly once, in order', async () => {
    const redis = env.client();
    const stepId = env.stepId();
    const subscriber = new EventSubscriber({ redis });
    const publisher = await StepEventPublisher.open({
      redis,
      stepId,
      secrets: [],
      outputLimitBytes: 1024 * 1024,
      flushBytes: 64,
    });
    const followers: Promise<StepEvent[]>[] = [];
    for (let i = 0; i < 3000; i++) {
      await publisher.output(i % 7 === 0 ? 'stderr' : 'stdout', Buffer.from(`line ${i}\n`));
      if (i % 150 === 0) followers.push(collect(subscriber.follow(stepId)));
    }
    await publisher.finished({ status: 'succeeded', exitCode: 0 });
    for (const events of await Promise.all(followers))
      expect(seqs(events)).toEqual(range(1, publisher.lastSeq));
    await subscriber.close();
  });

  it('ends right after the replay when the stream already contains finished', async () => {
    const redis = env.client();
    const stepId = env.stepId();
    const publisher = await open(redis, stepId);
    await publisher.status({ status: 'running' });
    await publisher.finished({ status: 'timed_out', exitCode: null });
    const subscriber = new EventSubscriber({ redis });
    expect(seqs(await collect(subscriber.follow(stepId)))).toEqual([1, 2]);
    expect(seqs(await collect(subscriber.follow(stepId, { afterSeq: 1 })))).toEqual([2]);
    expect(subscriber.followedSteps).toBe(0);
    await subscriber.close();
  });

  it('ends without an error when its signal aborts', async () => {
    const redis = env.client();
    const stepId = env.stepId();
    const subscriber = new EventSubscriber({ redis });
    const controller = new AbortController();
    const followed = collect(subscriber.follow(stepId, { signal: controller.signal }));
    await waitFor(async () => (await env.subscribers(DEFAULT_FLEET_NAMES.events(stepId))) === 1);
    controller.abort();
    expect(await followed).toEqual([]);
    await waitFor(async () => (await env.subscribers(DEFAULT_FLEET_NAMES.events(stepId))) === 0);
    await subscriber.close();
  });

  it('serves many followers of many steps over one subscriber connection', async () => {
    const redis = env.client();
    const subscriber = new EventSubscriber({ redis });
    const stepIds = range(1, 5).map(() => env.stepId());
    const followed = stepIds.flatMap((stepId) => range(1, 4).map(() => collect(subscriber.follow(stepId))));
    await waitFor(async () => subscriber.followedSteps === 5);
    expect(await env.openConnections()).toBe(2);
    for (const stepId of stepIds) {
      const publisher = await open(redis, stepId);
      await publisher.output('stdout', Buffer.from(stepId));
      await publisher.finished({ status: 'succeeded', exitCode: 0 });
    }
    const results = await Promise.all(followed);
    results.forEach((events, i) => {
      expect(seqs(events)).toEqual([1, 2]);
      expect(events[0]).toMatchObject({ type: 'output', data: stepIds[Math.floor(i / 4)] });
    });
    expect(subscriber.followedSteps).toBe(0);
    await subscriber.close();
  });

  it('catches up from the stream when a slow follower overflows its live buffer', async () => {
    const redis = env.client();
    const stepId = env.stepId();
    const subscriber = new EventSubscriber({ redis, maxBufferedBytes: 2048 });
    const publisher = await open(redis, stepId);
    await publisher.status({ status: 'running' });
    const iterator = subscriber.follow(stepId);
    expect((await iterator.next()).value).toMatchObject({ seq: 1 });
    await publishRuntime(publisher, 300);
    await publisher.finished({ status: 'succeeded', exitCode: 0 });
    const rest: StepEvent[] = [];
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) rest.push(next.value);
    expect(seqs(rest)).toEqual(range(2, 302));
    await subscriber.close();
  });

  it('catches up from the stream after its subscriber connection drops', async () => {
    const redis = env.client();
    const stepId = env.stepId();
    const subscriber = new EventSubscriber({ redis });
    const publisher = await open(redis, stepId);
    await publisher.status({ status: 'running' });
    const iterator = subscriber.follow(stepId);
    expect((await iterator.next()).value).toMatchObject({ seq: 1 });
    expect(await env.killSubscribers()).toBe(1);
    await publishRuntime(publisher, 5);
    await publisher.finished({ status: 'succeeded', exitCode: 0 });
    const rest: StepEvent[] = [];
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) rest.push(next.value);
    expect(seqs(rest)).toEqual(range(2, 7));
    await subscriber.close();
  });

  it('fills a seq gap in live delivery from the stream', async () => {
    const redis = env.client();
    const stepId = env.stepId();
    const subscriber = new EventSubscriber({ redis });
    const followed = collect(subscriber.follow(stepId));
    await waitFor(async () => (await env.subscribers(DEFAULT_FLEET_NAMES.events(stepId))) === 1);
    const first = await open(redis, stepId);
    await first.status({ status: 'running' });
    await first.close();
    // Seq 2 reaches the stream but its pub/sub message is lost.
    const lost = { stepId, seq: 2, ts: new Date().toISOString(), type: 'runtime', name: 'lost' };
    await redis.xadd(DEFAULT_FLEET_NAMES.events(stepId), '*', 'e', JSON.stringify(lost));
    const second = await open(redis, stepId);
    await second.finished({ status: 'succeeded', exitCode: 0 });
    const events = await followed;
    expect(seqs(events)).toEqual([1, 2, 3]);
    expect(events[1]).toMatchObject({ name: 'lost' });
    await subscriber.close();
  });

  it('ends active followers when closed and rejects new ones with STREAM_SUBSCRIBER_CLOSED', async () => {
    const redis = env.client();
    const stepId = env.stepId();
    const subscriber = new EventSubscriber({ redis });
    const followed = collect(subscriber.follow(stepId));
    await waitFor(async () => subscriber.followedSteps === 1);
    await subscriber.close();
    await subscriber.close();
    expect(await followed).toEqual([]);
    const error: StreamError = await collect(subscriber.follow(stepId)).catch((e) => e);
    expect(error.code).toBe('STREAM_SUBSCRIBER_CLOSED');
  });

  it('leaves a given subscriber connection open and unsubscribed when closed', async () => {
    const redis = env.client();
    const connection = env.client();
    const stepId = env.stepId();
    const subscriber = new EventSubscriber({ redis, subscriber: connection });
    const followed = collect(subscriber.follow(stepId));
    await waitFor(async () => (await env.subscribers(DEFAULT_FLEET_NAMES.events(stepId))) === 1);
    await subscriber.close();
    expect(await followed).toEqual([]);
    expect(await env.subscribers(DEFAULT_FLEET_NAMES.events(stepId))).toBe(0);
    expect(connection.status).toBe('ready');
  });
});
