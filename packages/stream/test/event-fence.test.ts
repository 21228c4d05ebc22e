import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readEvents, StepEventPublisher, StreamError } from '../src/index.js';
import { TestRedis } from './helpers.js';

describe('attempt fencing of a step’s events', () => {
  let world: TestRedis;

  beforeEach(() => {
    world = new TestRedis();
  });

  afterEach(async () => {
    expect(await world.cleanup()).toBe(0);
  });

  const open = (stepId: string, attempt?: number) =>
    StepEventPublisher.open({
      redis: world.client(),
      stepId,
      secrets: [],
      outputLimitBytes: 1024,
      ...(attempt === undefined ? {} : { attempt }),
    });

  it('stops an older attempt publishing once a newer one opened, and numbering stays gap-free', async () => {
    const stepId = world.stepId();
    const first = await open(stepId, 1);
    await first.status({ status: 'running', attempt: 1 });
    const second = await open(stepId, 2);
    await expect(first.status({ status: 'running', attempt: 1 })).rejects.toMatchObject({
      code: 'STREAM_ATTEMPT_FENCED',
    });
    await second.status({ status: 'running', attempt: 2 });
    await second.finished({ status: 'succeeded', exitCode: 0 });
    const events = await readEvents({ redis: world.client(), stepId });
    expect(events.map((e) => [e.seq, e.type])).toEqual([
      [1, 'status'],
      [2, 'status'],
      [3, 'finished'],
    ]);
  });

  it('refuses an older attempt opening after a newer one, and anyone after finished', async () => {
    const stepId = world.stepId();
    const current = await open(stepId, 3);
    await expect(open(stepId, 2)).rejects.toBeInstanceOf(StreamError);
    await current.finished({ status: 'failed', exitCode: 1 });
    await expect(open(stepId, 4)).rejects.toMatchObject({ code: 'STREAM_ATTEMPT_FENCED' });
    await expect(open(stepId)).rejects.toMatchObject({ code: 'STREAM_ATTEMPT_FENCED' });
    const events = await readEvents({ redis: world.client(), stepId });
    expect(events.at(-1)).toMatchObject({ type: 'finished', status: 'failed' });
  });

  it('never lets a running status follow finished, whoever writes it', async () => {
    const stepId = world.stepId();
    const attempt = await open(stepId, 1);
    const canceller = await open(stepId);
    await canceller.finished({ status: 'cancelled', exitCode: null });
    await expect(attempt.status({ status: 'running', attempt: 1 })).rejects.toMatchObject({
      code: 'STREAM_ATTEMPT_FENCED',
    });
    const events = await readEvents({ redis: world.client(), stepId });
    expect(events.map((e) => e.type)).toEqual(['finished']);
  });
});
