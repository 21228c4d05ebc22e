import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import { JOB_NAME, StepSpec, TERMINAL_STATUSES, ValidationError } from '@sandfleet/contracts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeStepStore, gate, QueueTestEnv, REDIS_URL, specInput, summary, waitFor } from './support.js';

let env: QueueTestEnv;
beforeEach(() => {
  env = new QueueTestEnv();
});
afterEach(async () => {
  expect(await env.cleanup()).toEqual({ keys: 0, connections: 0 });
});

describe('StepQueue.enqueue', () => {
  it('rejects an invalid spec with VALIDATION_FAILED naming the fields, and records and queues nothing', async () => {
    const store = new FakeStepStore();
    const queue = env.queue({ store });
    const error = await queue
      .enqueue({ id: env.stepId(), agentId: 'Not An Agent', command: [], surprise: true })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({ code: 'VALIDATION_FAILED', retryable: false });
    expect((error as ValidationError).issues.map((issue) => issue.path)).toEqual(
      expect.arrayContaining(['agentId', 'surprise']),
    );
    expect(store.calls).toEqual([]);
    expect(await queue.queue.getJobCountByTypes('waiting', 'delayed', 'prioritized')).toBe(0);
  });

  it('records the step and adds one job whose id is the step id', async () => {
    const store = new FakeStepStore();
    const queue = env.queue({ store });
    const id = env.stepId();
    expect(await queue.enqueue(specInput({ id }))).toEqual({ id, created: true });
    expect(store.rows.get(id)?.status).toBe('queued');
    const job = await queue.queue.getJob(id);
    expect(job?.name).toBe(JOB_NAME);
    expect(await queue.jobState(id)).toBe('waiting');
  });

  it('makes one job of the same id enqueued twice and reports the second as not created', async () => {
    const store = new FakeStepStore();
    const queue = env.queue({ store });
    const id = env.stepId();
    expect(await queue.enqueue(specInput({ id }))).toEqual({ id, created: true });
    expect(await queue.enqueue(specInput({ id, command: ['echo', 'other'] }))).toEqual({
      id,
      created: false,
    });
    expect((await queue.counts()).waiting).toBe(1);
    expect((await queue.queue.getJob(id))?.data.command).toEqual(['echo', 'hello']);
  });

  it('makes one job of the same id enqueued concurrently', async () => {
    const queue = env.queue({ store: new FakeStepStore() });
    const id = env.stepId();
    const results = await Promise.all([1, 2, 3].map(() => queue.enqueue(specInput({ id }))));
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect((await queue.counts()).waiting).toBe(1);
  });

  it('is idempotent by id without a store, like a plain BullMQ producer', async () => {
    const queue = env.queue();
    const id = env.stepId();
    expect(await queue.enqueue(specInput({ id }))).toEqual({ id, created: true });
    expect(await queue.enqueue(specInput({ id }))).toEqual({ id, created: false });
    expect((await queue.counts()).waiting).toBe(1);
  });

  it('gives a spec without an id a fresh one, in the job data too', async () => {
    const queue = env.queue({ store: new FakeStepStore() });
    const first = await queue.enqueue(specInput());
    const second = await queue.enqueue(specInput());
    expect(first.created && second.created).toBe(true);
    expect(first.id).not.toBe(second.id);
    expect((await queue.queue.getJob(first.id))?.data.id).toBe(first.id);
  });

  it('adds the missing job of a step whose row is still queued (an earlier enqueue that failed half-way)', async () => {
    const store = new FakeStepStore();
    const queue = env.queue({ store });
    const id = env.stepId();
    store.seed(id, 'queued');
    expect(await queue.enqueue(specInput({ id }))).toEqual({ id, created: false });
    expect(await queue.jobState(id)).toBe('waiting');
  });

  it.each([...TERMINAL_STATUSES, 'running' as const])(
    'does not add a job again for a step whose row is %s',
    async (status) => {
      const store = new FakeStepStore();
      const queue = env.queue({ store });
      const id = env.stepId();
      store.seed(id, status);
      expect(await queue.enqueue(specInput({ id }))).toEqual({ id, created: false });
      expect(await queue.queue.getJob(id)).toBeUndefined();
    },
  );

  it('puts the parsed spec with its id in the job data and priority, delay and attempts in the job options', async () => {
    const queue = env.queue({ store: new FakeStepStore() });
    const id = env.stepId();
    const input = specInput({ id, priority: 7, delayMs: 60_000, attempts: 5, labels: { team: 'qa' } });
    await queue.enqueue(input);
    const job = await queue.queue.getJob(id);
    expect(job?.data).toEqual(StepSpec.parse(input));
    expect(job?.data).toMatchObject({ id, kind: 'task', network: 'none', secrets: [], env: {} });
    expect(job?.opts).toMatchObject({
      jobId: id,
      priority: 7,
      delay: 60_000,
      attempts: 5,
      backoff: { type: 'exponential', delay: 1000 },
    });
    expect(await queue.jobState(id)).toBe('delayed');
  });

  it('gives a job three attempts by default and queues a prioritized step as prioritized', async () => {
    const queue = env.queue();
    const plain = env.stepId();
    const urgent = env.stepId();
    await queue.enqueue(specInput({ id: plain }));
    await queue.enqueue(specInput({ id: urgent, priority: 1 }));
    expect((await queue.queue.getJob(plain))?.opts.attempts).toBe(3);
    expect(await queue.jobState(plain)).toBe('waiting');
    expect(await queue.jobState(urgent)).toBe('prioritized');
  });

  it('fails fast with a retryable QUEUE_UNAVAILABLE when Redis cannot be reached, recording nothing', async () => {
    const store = new FakeStepStore();
    // Nothing listens on port 1: connections are refused at once.
    const queue = env.queue({ redisUrl: 'redis://127.0.0.1:1', store });
    const started = Date.now();
    await expect(queue.enqueue(specInput({ id: env.stepId() }))).rejects.toMatchObject({
      code: 'QUEUE_UNAVAILABLE',
      retryable: true,
    });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(store.calls).toEqual([]);
    await expect(queue.removeQueued(env.stepId())).rejects.toMatchObject({ code: 'QUEUE_UNAVAILABLE' });
    await expect(queue.jobState(env.stepId())).rejects.toMatchObject({ code: 'QUEUE_UNAVAILABLE' });
  });
});

/** A TCP hop to the test Redis that can stop answering (a hung link) and then drop every connection. */
async function cuttableRedis(): Promise<{ url: string; hang(): void; cut(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let hung = false;
  const server = createServer((client) => {
    const { hostname, port } = new URL(REDIS_URL);
    const upstream = connect(Number(port || 6379), hostname);
    sockets.add(client).add(upstream);
    client.on('data', (chunk) => {
      if (!hung) upstream.write(chunk);
    });
    upstream.pipe(client);
    for (const socket of [client, upstream]) socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `redis://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hang: () => {
      hung = true;
    },
    cut: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('StepQueue when Redis goes away mid-call', () => {
  it('fails a call in flight with QUEUE_UNAVAILABLE, not the driver’s error', async () => {
    const redis = await cuttableRedis();
    const queue = env.queue({ redisUrl: redis.url });
    const id = env.stepId();
    expect(await queue.jobState(id)).toBe('unknown');
    redis.hang();
    const inFlight = queue.jobState(id).catch((error: unknown) => error);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await redis.cut();
    const failure = await inFlight;
    expect(failure).toMatchObject({ name: 'QueueError', code: 'QUEUE_UNAVAILABLE', retryable: true });
    expect((failure as Error).cause).toBeInstanceOf(Error);
  });
});

describe('StepQueue.removeQueued', () => {
  it.each([
    ['waiting', {}],
    ['delayed', { delayMs: 60_000 }],
    ['prioritized', { priority: 3 }],
  ])('takes back a %s step', async (state, options) => {
    const queue = env.queue();
    const id = env.stepId();
    await queue.enqueue(specInput({ id, ...options }));
    expect(await queue.jobState(id)).toBe(state);
    expect(await queue.removeQueued(id)).toBe(true);
    expect(await queue.jobState(id)).toBe('unknown');
    expect(await queue.removeQueued(id)).toBe(false);
  });

  it('refuses an unknown step', async () => {
    expect(await env.queue().removeQueued(env.stepId())).toBe(false);
  });

  it('refuses a step a worker is running, which then completes, and one that has finished', async () => {
    const queue = env.queue();
    const id = env.stepId();
    const release = gate();
    const worker = env.worker({
      handler: async (delivery) => {
        await release.promise;
        return summary(delivery.stepId);
      },
    });
    await worker.start();
    await queue.enqueue(specInput({ id }));
    await waitFor('the step to be active', async () => (await queue.jobState(id)) === 'active');
    expect(await queue.removeQueued(id)).toBe(false);
    release.open();
    await waitFor('the step to complete', async () => (await queue.jobState(id)) === 'completed');
    expect(await queue.removeQueued(id)).toBe(false);
    expect(await queue.jobState(id)).toBe('completed');
  });
});
