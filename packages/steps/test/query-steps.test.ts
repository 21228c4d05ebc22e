import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueueStep, getStep, listSteps, StepsError, stepIdForKey, withIdempotentId } from '../src/index.js';
import { StepsWorld } from './support.js';

describe('enqueueStep, getStep, listSteps', () => {
  let world: StepsWorld;

  beforeAll(async () => {
    world = await StepsWorld.create();
  });
  afterAll(async () => {
    await world?.close();
  });

  it('enqueues a spec once per idempotency key, recording it queued with its job', async () => {
    const key = `order-${world.stepId()}`;
    const spec = { agentId: 'agent-1', command: ['true'], delayMs: 60_000 };
    const first = await enqueueStep(world, spec, { idempotencyKey: key });
    const again = await enqueueStep(world, spec, { idempotencyKey: key });
    expect(first).toEqual({ id: stepIdForKey(key), created: true });
    expect(again).toEqual({ id: stepIdForKey(key), created: false });
    expect(await world.queue.jobState(first.id)).toBe('delayed');
    expect(await getStep(world.db, first.id)).toMatchObject({ id: first.id, status: 'queued' });
  });

  it('refuses an invalid spec naming the field, writing nothing', async () => {
    await expect(enqueueStep(world, { agentId: 'agent-1' })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
  });

  it('derives a stable step id from a key and leaves a spec with an id alone', () => {
    expect(stepIdForKey('order-42')).toBe(stepIdForKey('order-42'));
    expect(stepIdForKey('order-42')).toMatch(/^idem-[0-9a-f]{32}$/);
    expect(stepIdForKey('order-42')).not.toBe(stepIdForKey('order-43'));
    expect(withIdempotentId({ agentId: 'a' }, 'k')).toEqual({ agentId: 'a', id: stepIdForKey('k') });
    expect(withIdempotentId({ agentId: 'a', id: 'mine' }, 'k')).toEqual({ agentId: 'a', id: 'mine' });
    expect(withIdempotentId({ agentId: 'a' }, undefined)).toEqual({ agentId: 'a' });
    expect(withIdempotentId(['not', 'a', 'spec'], 'k')).toEqual(['not', 'a', 'spec']);
  });

  it('gets a row, and refuses an unknown id with STEP_NOT_FOUND', async () => {
    const id = await world.enqueueDelayed();
    expect(await getStep(world.db, id)).toMatchObject({ id, status: 'queued', agentId: 'agent-1' });
    const error = await getStep(world.db, world.stepId()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StepsError);
    expect(error).toMatchObject({ code: 'STEP_NOT_FOUND' });
  });

  it('lists steps newest first, page by page, ending with a null cursor', async () => {
    const agentId = `agent-${world.stepId()}`.slice(0, 40);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      ids.push(await world.enqueueDelayed(world.stepId(), { agentId }));
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const first = await listSteps(world.db, { agentId, limit: 2 });
    expect(first.items.map((s) => s.id)).toEqual([ids[2], ids[1]]);
    expect(typeof first.nextCursor).toBe('string');
    const last = await listSteps(world.db, { agentId, limit: 2, cursor: first.nextCursor as string });
    expect(last).toMatchObject({ items: [{ id: ids[0] }], nextCursor: null });
    expect((await listSteps(world.db, { agentId, status: 'succeeded' })).items).toEqual([]);
  });
});
