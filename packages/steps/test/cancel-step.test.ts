import { StepSpec } from '@sandfleet/contracts';
import { CancelBus, readEvents } from '@sandfleet/stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StepsError } from '../src/index.js';
import { StepsWorld } from './support.js';

describe('StepCanceller', () => {
  let world: StepsWorld;

  beforeAll(async () => {
    world = await StepsWorld.create();
  });
  afterAll(async () => {
    await world?.close();
  });

  const finishedEvents = async (stepId: string) =>
    (await readEvents({ redis: world.redis, stepId })).filter((e) => e.type === 'finished');

  it('takes a queued step out of the queue and ends it `cancelled` once', async () => {
    const id = await world.enqueueDelayed();
    expect(await world.canceller.cancel(id)).toEqual({ stepId: id, status: 'cancelled', accepted: true });
    expect(await world.queue.jobState(id)).toBe('unknown');
    expect(await world.db.steps.get(id)).toMatchObject({ status: 'cancelled' });
    expect(await finishedEvents(id)).toMatchObject([{ status: 'cancelled', exitCode: null }]);
    // A second request changes nothing.
    expect(await world.canceller.cancel(id)).toEqual({ stepId: id, status: 'cancelled', accepted: false });
    expect(await finishedEvents(id)).toHaveLength(1);
  });

  it('reaches exactly one terminal state when cancels race each other and a failure', async () => {
    for (let round = 0; round < 5; round++) {
      const id = await world.enqueueDelayed();
      const [first, second, failed] = await Promise.all([
        world.canceller.cancel(id),
        world.canceller.cancel(id),
        world.outcomes.endInError(id, { code: 'JOB_FAILED', message: 'the queue gave up' }),
      ]);
      const row = await world.db.steps.get(id);
      const finished = await finishedEvents(id);
      expect(finished).toHaveLength(1);
      expect(finished[0]?.status).toBe(row?.status);
      expect(['cancelled', 'error']).toContain(row?.status);
      expect(failed).toBe(row?.status === 'error');
      // The failure may win before either cancel reads the row; then neither is accepted.
      if (row?.status === 'cancelled') expect([first.accepted, second.accepted]).toContain(true);
    }
  });

  it('nudges the worker of a running step over the cancel bus and leaves the outcome to it', async () => {
    const id = world.stepId();
    await world.db.steps.insertQueued({
      id,
      spec: StepSpec.parse({ id, agentId: 'agent-1', command: ['true'] }),
    });
    await world.db.steps.markRunning({ id, workerId: 'w1' });
    const heard: string[] = [];
    const listener = new CancelBus({ redis: world.redis });
    await listener.subscribe((stepId) => heard.push(stepId));
    try {
      expect(await world.canceller.cancel(id)).toEqual({ stepId: id, status: 'running', accepted: true });
      const deadline = Date.now() + 5000;
      while (!heard.includes(id) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      expect(heard).toContain(id);
      const row = await world.db.steps.get(id);
      expect(row?.status).toBe('running');
      expect(row?.cancelRequestedAt).toBeInstanceOf(Date);
      expect(await finishedEvents(id)).toEqual([]);
    } finally {
      await listener.close();
    }
  });

  it('refuses an unknown step with STEP_NOT_FOUND', async () => {
    const error = await world.canceller.cancel(world.stepId()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StepsError);
    expect(error).toMatchObject({ code: 'STEP_NOT_FOUND' });
  });
});
