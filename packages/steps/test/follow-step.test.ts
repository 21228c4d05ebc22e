import type { StepEvent } from '@sandfleet/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FINISHED_GRACE_MS, followStep } from '../src/index.js';
import { collect, StepsWorld } from './support.js';

describe('followStep', () => {
  let world: StepsWorld;
  const deps = () => ({ steps: world.db.steps, queue: world.queue, subscriber: world.subscriber });

  beforeAll(async () => {
    world = await StepsWorld.create();
  });
  afterAll(async () => {
    await world?.close();
  });

  it('replays the events so far, then goes live, and ends at `finished`', async () => {
    const id = await world.enqueueDelayed();
    const attempt = await world.publisher(id, { attempt: 1 });
    await attempt.status({ status: 'running', attempt: 1, workerId: 'w1' });
    await attempt.output('stdout', Buffer.from('before\n'));
    await attempt.flush();

    const events = await followStep(deps(), id);
    const seen: StepEvent[] = [];
    for (let i = 0; i < 2; i++) {
      const next = await events.next();
      if (!next.done) seen.push(next.value);
    }
    expect(seen.map((e) => e.type)).toEqual(['status', 'output']);
    // Only now, with the follower past its replay, do the rest happen: they arrive live.
    await attempt.output('stdout', Buffer.from('after\n'));
    await attempt.flush();
    const row = await world.outcomes.finish(id, { status: 'succeeded', exitCode: 0 }, attempt);
    seen.push(...(await collect(events)));

    expect(seen.map((e) => e.type)).toEqual(['status', 'output', 'output', 'finished']);
    expect(seen.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(seen.at(-1)).toMatchObject({ type: 'finished', status: 'succeeded', exitCode: 0 });
    expect(row).toMatchObject({ status: 'succeeded', output: 'before\nafter\n' });
  });

  it('replays a finished step to its `finished` event and ends', async () => {
    const id = await world.enqueueDelayed();
    await world.outcomes.finish(id, { status: 'failed', exitCode: 3 });
    const events = await collect(await followStep(deps(), id));
    expect(events.map((e) => [e.type, e.seq])).toEqual([['finished', 1]]);
  });

  it('ends after the grace period for a finished step whose events are gone', async () => {
    const id = await world.enqueueDelayed();
    await world.outcomes.finish(id, { status: 'succeeded', exitCode: 0 });
    const [eventsKey] = await scanOne(world, `*:events:${id}`);
    expect(eventsKey).toBeDefined();
    await world.redis.del(eventsKey as string);
    const started = Date.now();
    expect(await collect(await followStep(deps(), id, { finishedGraceMs: 300 }))).toEqual([]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(FINISHED_GRACE_MS).toBe(5000);
  });

  it('waits for a step a plain producer enqueued (a job, no row yet) until told to stop', async () => {
    const id = world.stepId();
    await world.queue.queue.add(
      'step',
      { agentId: 'agent-1', command: ['true'] },
      { jobId: id, delay: 60_000 },
    );
    const controller = new AbortController();
    const events = await followStep(deps(), id, { signal: controller.signal });
    setTimeout(() => controller.abort(), 200);
    expect(await collect(events)).toEqual([]);
  });

  it('refuses an unknown step before any event with STEP_NOT_FOUND', async () => {
    await expect(followStep(deps(), world.stepId())).rejects.toMatchObject({ code: 'STEP_NOT_FOUND' });
  });
});

async function scanOne(world: StepsWorld, match: string): Promise<string[]> {
  const found: string[] = [];
  for await (const keys of world.redis.scanStream({ match, count: 1000 })) found.push(...(keys as string[]));
  return found;
}
