import { SandfleetError, ValidationError } from '@sandfleet/contracts';
import type { Job } from 'bullmq';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DeferError,
  HandBackError,
  type StepDelivery,
  type StepQueue,
  type StepWorker,
} from '../src/index.js';
import { gate, QueueTestEnv, specInput, summary, waitFor } from './support.js';

let env: QueueTestEnv;
let queue: StepQueue;
beforeEach(() => {
  env = new QueueTestEnv();
  queue = env.queue();
});
afterEach(async () => {
  expect(await env.cleanup()).toEqual({ keys: 0, connections: 0 });
});

/** Waits until the job is completed or failed, and returns it. */
async function settled(id: string, timeoutMs = 10_000): Promise<Job> {
  await waitFor(
    `step ${id} to settle`,
    async () => ['completed', 'failed'].includes(await queue.jobState(id)),
    timeoutMs,
  );
  return (await queue.queue.getJob(id)) as Job;
}

/** What a handler was given, one entry per delivery. */
type Seen = Pick<StepDelivery, 'stepId' | 'data' | 'attempt' | 'maxAttempts'> & { at: number };
const seen = (delivery: StepDelivery): Seen => ({
  stepId: delivery.stepId,
  data: delivery.data,
  attempt: delivery.attempt,
  maxAttempts: delivery.maxAttempts,
  at: Date.now(),
});

describe('StepWorker', () => {
  it('hands the handler the step and completes the job with the summary it returns', async () => {
    const deliveries: Seen[] = [];
    const worker = env.worker({
      handler: async (delivery) => {
        deliveries.push(seen(delivery));
        await delivery.log('step started');
        return summary(delivery.stepId);
      },
    });
    await worker.start();
    const id = env.stepId();
    await queue.enqueue(specInput({ id }));
    const job = await settled(id);
    expect(await job.getState()).toBe('completed');
    expect(job.returnvalue).toEqual(summary(id));
    expect(deliveries).toEqual([
      { stepId: id, data: job.data, attempt: 1, maxAttempts: 3, at: expect.any(Number) },
    ]);
    expect((await queue.queue.getJobLogs(id)).logs).toEqual(['step started']);
  });

  it.each([
    ['a final SandfleetError', () => new SandfleetError('IMAGE_NOT_ALLOWED', 'refused')],
    ['a ValidationError', () => new ValidationError('step spec', [{ path: 'agentId', message: 'bad' }])],
  ])('fails the job for good after one attempt when the handler throws %s', async (_, makeError) => {
    const deliveries: Seen[] = [];
    const worker = env.worker({
      handler: async (delivery) => {
        deliveries.push(seen(delivery));
        throw makeError();
      },
    });
    await worker.start();
    const id = env.stepId();
    await queue.enqueue(specInput({ id, attempts: 3 }));
    const job = await settled(id);
    expect(await job.getState()).toBe('failed');
    expect(job.attemptsMade).toBe(1);
    expect(job.failedReason).toMatch(new RegExp(`^${makeError().code}:`));
    expect(deliveries.map((d) => d.attempt)).toEqual([1]);
  });

  it('retries a retryable SandfleetError with exponential backoff until the attempts are spent', async () => {
    const deliveries: Seen[] = [];
    const worker = env.worker({
      handler: async (delivery) => {
        deliveries.push(seen(delivery));
        throw new SandfleetError('DOCKER_UNAVAILABLE', 'engine down', { retryable: true });
      },
    });
    await worker.start();
    const id = env.stepId();
    await queue.enqueue(specInput({ id, attempts: 3 }));
    const job = await settled(id, 20_000);
    expect(await job.getState()).toBe('failed');
    expect(job.attemptsMade).toBe(3);
    expect(deliveries.map((d) => [d.attempt, d.maxAttempts])).toEqual([
      [1, 3],
      [2, 3],
      [3, 3],
    ]);
    const [first, second, third] = deliveries.map((d) => d.at) as [number, number, number];
    // Backoff 1 s then 2 s; a little slack for clock granularity.
    expect(second - first).toBeGreaterThanOrEqual(900);
    expect(third - second).toBeGreaterThanOrEqual(1900);
  });

  it('retries an error that is not a SandfleetError and completes when a later attempt succeeds', async () => {
    const deliveries: Seen[] = [];
    const worker = env.worker({
      handler: async (delivery) => {
        deliveries.push(seen(delivery));
        if (delivery.attempt === 1) throw new Error('socket hang up');
        return summary(delivery.stepId);
      },
    });
    await worker.start();
    const id = env.stepId();
    await queue.enqueue(specInput({ id, attempts: 2 }));
    const job = await settled(id);
    expect(await job.getState()).toBe('completed');
    expect(job.returnvalue).toEqual(summary(id));
    expect(deliveries.map((d) => d.attempt)).toEqual([1, 2]);
  });

  it('puts a handed-back job back to waiting without spending an attempt, and another worker runs it', async () => {
    const deliveries: string[] = [];
    const first: StepWorker = env.worker({
      handler: async (delivery) => {
        deliveries.push(`first:${delivery.attempt}`);
        // Shutting down: take no more jobs, give this one back.
        await first.pause();
        throw new HandBackError(delivery.stepId);
      },
    });
    await first.start();
    const id = env.stepId();
    // One attempt only: had the hand-back spent it, the job would fail.
    await queue.enqueue(specInput({ id, attempts: 1 }));
    await waitFor('the hand-back', () => deliveries.length === 1);
    await waitFor('the job to wait again', async () => (await queue.jobState(id)) === 'waiting');
    expect((await queue.queue.getJob(id))?.attemptsMade).toBe(0);

    const second = env.worker({
      handler: async (delivery) => {
        deliveries.push(`second:${delivery.attempt}`);
        return summary(delivery.stepId);
      },
    });
    await second.start();
    const job = await settled(id);
    expect(await job.getState()).toBe('completed');
    expect(deliveries).toEqual(['first:1', 'second:1']);
  });

  it('runs a deferred job again later without spending an attempt', async () => {
    const deliveries: number[] = [];
    const worker = env.worker({
      handler: async (delivery) => {
        deliveries.push(Date.now());
        if (deliveries.length === 1) throw new DeferError(delivery.stepId, 300, 'agent busy');
        return summary(delivery.stepId);
      },
    });
    await worker.start();
    const id = env.stepId();
    await queue.enqueue(specInput({ id, attempts: 1 }));
    const job = await settled(id);
    expect(await job.getState()).toBe('completed');
    expect(deliveries).toHaveLength(2);
    expect((deliveries[1] ?? 0) - (deliveries[0] ?? 0)).toBeGreaterThanOrEqual(250);
  });

  it('tells onFailed about a job that failed for good, not about attempts that will be retried', async () => {
    const failed: string[] = [];
    const worker = env.worker({
      handler: async () => {
        throw new Error('boom');
      },
      onFailed: (stepId, reason) => {
        failed.push(`${stepId}:${reason}`);
      },
    });
    await worker.start();
    const id = env.stepId();
    await queue.enqueue(specInput({ id, attempts: 2 }));
    await settled(id);
    await waitFor('onFailed', () => failed.length > 0);
    expect(failed).toEqual([`${id}:boom`]);
  });

  it('fails a job named other than step without calling the handler', async () => {
    const deliveries: Seen[] = [];
    const worker = env.worker({
      handler: async (delivery) => {
        deliveries.push(seen(delivery));
        return summary(delivery.stepId);
      },
    });
    await worker.start();
    const id = env.stepId();
    await queue.queue.add('not-a-step', specInput({ id }), { jobId: id, attempts: 3 });
    const job = await settled(id);
    expect(await job.getState()).toBe('failed');
    expect(job.attemptsMade).toBe(1);
    expect(deliveries).toEqual([]);
  });

  it('waits in close() for a running handler, whose job then completes; close is idempotent', async () => {
    const release = gate();
    const worker = env.worker({
      handler: async (delivery) => {
        await release.promise;
        return summary(delivery.stepId);
      },
    });
    await worker.start();
    const id = env.stepId();
    await queue.enqueue(specInput({ id }));
    await waitFor('the step to be active', async () => (await queue.jobState(id)) === 'active');
    let closed = false;
    const closing = worker.close().then(() => {
      closed = true;
    });
    expect(await queue.jobState(id)).toBe('active');
    expect(closed).toBe(false);
    release.open();
    await closing;
    await worker.close();
    expect(await queue.jobState(id)).toBe('completed');
  });
});
