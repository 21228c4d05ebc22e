import { StepSpec } from '@sandfleet/contracts';
import { readEvents } from '@sandfleet/stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StepsWorld } from './support.js';

describe('StepOutcomes', () => {
  let world: StepsWorld;

  beforeAll(async () => {
    world = await StepsWorld.create();
  });
  afterAll(async () => {
    await world?.close();
  });

  const events = (stepId: string) => readEvents({ redis: world.redis, stepId });

  /** A step a worker has started (row `running`, attempt 1), without a job. */
  const running = async () => {
    const id = world.stepId();
    await world.db.steps.insertQueued({
      id,
      spec: StepSpec.parse({ id, agentId: 'agent-1', command: ['true'] }),
    });
    const row = await world.db.steps.markRunning({ id, workerId: 'w1' });
    return { id, attempt: row?.attempts as number };
  };

  it('lets exactly one of concurrent finishes record the outcome and publish `finished`', async () => {
    const { id, attempt } = await running();
    const rows = await Promise.all([
      world.outcomes.finish(id, { status: 'succeeded', exitCode: 0, attempt }),
      world.outcomes.finish(id, { status: 'failed', exitCode: 1, attempt }),
      world.outcomes.cancel(id),
    ]);
    const made = rows.filter((row) => row !== undefined);
    expect(made).toHaveLength(1);
    const finished = (await events(id)).filter((e) => e.type === 'finished');
    expect(finished).toHaveLength(1);
    expect(finished[0]).toMatchObject({ status: made[0]?.status });
    expect((await world.db.steps.get(id))?.status).toBe(made[0]?.status);
  });

  it('records the output, error code and result the attempt’s publisher captured', async () => {
    const { id, attempt } = await running();
    const publisher = await world.publisher(id, { attempt });
    await publisher.output('stderr', Buffer.from('boom\n'));
    const row = await world.outcomes.finish(
      id,
      { status: 'error', exitCode: null, error: { code: 'CONTAINER_LOST', message: 'gone' }, attempt },
      publisher,
    );
    expect(row).toMatchObject({
      status: 'error',
      output: 'boom\n',
      error: 'gone',
      errorCode: 'CONTAINER_LOST',
    });
    expect((await events(id)).map((e) => e.type)).toEqual(['output', 'finished']);
    expect((await events(id)).at(-1)).toMatchObject({ error: 'gone', exitCode: null });
  });

  it('records nothing for a stale attempt once a newer one started', async () => {
    const { id, attempt } = await running();
    await world.db.steps.markQueued({ id, error: null, attempt });
    await world.db.steps.markRunning({ id, workerId: 'w2' });
    expect(await world.outcomes.finish(id, { status: 'succeeded', exitCode: 0, attempt })).toBeUndefined();
    expect(await events(id)).toEqual([]);
    expect((await world.db.steps.get(id))?.status).toBe('running');
  });

  it('rejects an invalid job once: an `error` row with its code and one `finished`', async () => {
    const id = world.stepId();
    const error = { code: 'VALIDATION_FAILED', message: 'step spec: command is required' };
    expect(await world.outcomes.reject(id, { agentId: 'agent-1' }, error)).toBe(true);
    expect(await world.outcomes.reject(id, { agentId: 'agent-1' }, error)).toBe(false);
    expect(await world.db.steps.get(id)).toMatchObject({ status: 'error', errorCode: 'VALIDATION_FAILED' });
    expect((await events(id)).map((e) => e.type)).toEqual(['finished']);
  });

  it('hands a started step back and retries one, saying so on its events', async () => {
    const { id, attempt } = await running();
    const publisher = await world.publisher(id, { attempt });
    expect(await world.outcomes.handBack(id, { attempt, publisher })).toBe(true);
    expect(await world.db.steps.get(id)).toMatchObject({ status: 'queued', workerId: null, error: null });
    const again = await world.db.steps.markRunning({ id, workerId: 'w2' });
    expect(
      await world.outcomes.retry(id, { attempt: again?.attempts, publisher }, { message: 'docker hiccup' }),
    ).toBe(true);
    expect(await world.db.steps.get(id)).toMatchObject({ status: 'queued', error: 'docker hiccup' });
    expect((await events(id)).map((e) => (e.type === 'status' ? e.message : e.type))).toEqual([
      'handed back: worker shutting down',
      'retrying: docker hiccup',
    ]);
  });
});
