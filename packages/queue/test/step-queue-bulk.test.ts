import { JOB_NAME, ValidationError } from '@sandfleet/contracts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EnqueueManyResult } from '../src/index.js';
import { FakeStepStore, QueueTestEnv, specInput } from './support.js';

let env: QueueTestEnv;
beforeEach(() => {
  env = new QueueTestEnv();
});
afterEach(async () => {
  expect(await env.cleanup()).toEqual({ keys: 0, connections: 0 });
});

const ids = (results: EnqueueManyResult[]) => results.map((r) => ('error' in r ? 'error' : r.id));

describe('StepQueue.enqueueMany', () => {
  it('answers one result per input in order, refusing only the invalid ones, and adds one job per valid step with enqueue’s options', async () => {
    const store = new FakeStepStore();
    const queue = env.queue({ store });
    const [a, b, c] = [env.stepId(), env.stepId(), env.stepId()];
    const results = await queue.enqueueMany(
      [
        specInput({ id: a }),
        { id: env.stepId(), agentId: 'Not An Agent', command: ['true'] },
        specInput({ id: b, priority: 2 }),
        'not a spec',
        specInput({ id: c, delayMs: 60_000, attempts: 5 }),
      ],
      { producer: 'team-a' },
    );
    expect(ids(results)).toEqual([a, 'error', b, 'error', c]);
    expect(results[0]).toEqual({ id: a, created: true });
    const invalid = results[1] as { error: ValidationError };
    expect(invalid.error).toBeInstanceOf(ValidationError);
    expect(invalid.error.issues.map((issue) => issue.path)).toEqual(['agentId']);
    expect(await queue.jobState(a)).toBe('waiting');
    expect(await queue.jobState(b)).toBe('prioritized');
    expect(await queue.jobState(c)).toBe('delayed');
    const job = await queue.queue.getJob(c);
    expect(job?.name).toBe(JOB_NAME);
    expect(job?.opts.attempts).toBe(5);
    expect(job?.data).toMatchObject({ id: c, agentId: 'agent-q' });
    expect([...store.rows.keys()].sort()).toEqual([a, b, c].sort());
    expect(store.rows.get(a)?.producer).toBe('team-a');
    // One transaction for the rows.
    expect(store.calls.filter((call) => call.startsWith('insertQueuedMany'))).toHaveLength(1);
  });

  it('is idempotent by id: posted again, every item answers created false and no job is added twice; an id given twice is one step', async () => {
    const store = new FakeStepStore();
    const queue = env.queue({ store });
    const [a, b] = [env.stepId(), env.stepId()];
    const first = await queue.enqueueMany([specInput({ id: a }), specInput({ id: b }), specInput({ id: a })]);
    expect(first).toEqual([
      { id: a, created: true },
      { id: b, created: true },
      { id: a, created: false },
    ]);
    const again = await queue.enqueueMany([specInput({ id: b }), specInput({ id: a, command: ['other'] })]);
    expect(again).toEqual([
      { id: b, created: false },
      { id: a, created: false },
    ]);
    expect((await queue.counts()).waiting).toBe(2);
    expect((await queue.queue.getJob(a))?.data.command).toEqual(['echo', 'hello']);
  });

  it('adds the missing job of a row still queued, and none for a row that moved on', async () => {
    const store = new FakeStepStore();
    const queue = env.queue({ store });
    const [orphan, done] = [env.stepId(), env.stepId()];
    store.seed(orphan, 'queued');
    store.seed(done, 'succeeded');
    expect(await queue.enqueueMany([specInput({ id: orphan }), specInput({ id: done })])).toEqual([
      { id: orphan, created: false },
      { id: done, created: false },
    ]);
    expect(await queue.jobState(orphan)).toBe('waiting');
    expect(await queue.jobState(done)).toBe('unknown');
  });

  it('without a store reports a job already in the queue as not created', async () => {
    const queue = env.queue();
    const [a, b] = [env.stepId(), env.stepId()];
    await queue.enqueue(specInput({ id: a }));
    const results = await queue.enqueueMany([specInput({ id: a }), specInput({ id: b }), specInput()]);
    expect(results.slice(0, 2)).toEqual([
      { id: a, created: false },
      { id: b, created: true },
    ]);
    expect(results[2]).toMatchObject({ created: true });
    expect((await queue.counts()).waiting).toBe(3);
  });

  it('fails fast with QUEUE_UNAVAILABLE when Redis cannot be reached, recording nothing', async () => {
    const store = new FakeStepStore();
    const queue = env.queue({ redisUrl: 'redis://127.0.0.1:1', store });
    await expect(queue.enqueueMany([specInput({ id: env.stepId() })])).rejects.toMatchObject({
      code: 'QUEUE_UNAVAILABLE',
      retryable: true,
    });
    expect(store.calls).toEqual([]);
  });
});
