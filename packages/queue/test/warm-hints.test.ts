import { WARM_HINT_JOB_NAME, type WarmHint } from '@sandfleet/contracts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { QueueTestEnv, randomId, waitFor } from './support.js';

let env: QueueTestEnv;
beforeEach(() => {
  env = new QueueTestEnv();
});
afterEach(async () => {
  expect(await env.cleanup()).toEqual({ keys: 0, connections: 0 });
});

const agentId = () => randomId('agent').toLowerCase();

describe('warm hints queue', () => {
  it('hands a hint added by the producer to the consumer handler, parsed', async () => {
    const hints: WarmHint[] = [];
    const worker = env.warmHintWorker({
      handler: async (hint) => {
        hints.push(hint);
      },
    });
    await worker.start();
    const agent = agentId();
    await env.warmHints().add({ agentId: agent, image: 'sandfleet/agent-runtime:1' });
    await waitFor('the hint', () => hints.length > 0);
    expect(hints).toEqual([{ agentId: agent, image: 'sandfleet/agent-runtime:1' }]);
  });

  it('makes one job of a burst of hints for one agent, and one per agent', async () => {
    const producer = env.warmHints({ dedupeMs: 60_000 });
    const [first, second] = [agentId(), agentId()];
    await Promise.all(Array.from({ length: 10 }, () => producer.add({ agentId: first })));
    await producer.add({ agentId: first, image: 'sandfleet/agent-runtime:2' });
    await producer.add({ agentId: second });
    const jobs = await producer.queue.getJobs(['waiting']);
    expect(jobs.map((job) => job.data).sort((a, b) => a.agentId.localeCompare(b.agentId))).toEqual(
      [{ agentId: first }, { agentId: second }].sort((a, b) => a.agentId.localeCompare(b.agentId)),
    );
    expect(jobs.every((job) => job.name === WARM_HINT_JOB_NAME && job.opts.attempts === 1)).toBe(true);

    const handled: WarmHint[] = [];
    await env.warmHintWorker({ handler: async (hint) => void handled.push(hint) }).start();
    await waitFor('both hints', () => handled.length === 2);
    // Still inside the window: the burst's later hints made no job, even after the first ran.
    await producer.add({ agentId: first });
    expect(await producer.queue.getJobCounts('waiting', 'active')).toMatchObject({ waiting: 0, active: 0 });
  });

  it('queues a hint for an agent again once the window has passed', async () => {
    const producer = env.warmHints({ dedupeMs: 200 });
    const agent = agentId();
    await producer.add({ agentId: agent });
    await producer.add({ agentId: agent });
    expect(await producer.queue.getWaitingCount()).toBe(1);
    await waitFor(
      'the window to pass',
      async () => {
        await producer.add({ agentId: agent });
        return (await producer.queue.getWaitingCount()) === 2;
      },
      5000,
    );
  });

  it('refuses a bad hint before writing anything', async () => {
    const producer = env.warmHints();
    await expect(producer.add({ agentId: 'Not An Agent' })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      issues: [{ path: 'agentId', message: expect.stringContaining('must match') }],
    });
    expect(await producer.queue.count()).toBe(0);
  });

  it('fails, without calling the handler, a job whose data is not a hint, and reports it; a throwing handler too', async () => {
    const failures: { code?: string; message: string; data: unknown }[] = [];
    const handled: WarmHint[] = [];
    const worker = env.warmHintWorker({
      handler: async (hint) => {
        handled.push(hint);
        if (hint.image === 'sandfleet/boom:1') throw new Error('warm failed');
      },
      onFailed: (error, data) =>
        failures.push({ code: (error as { code?: string }).code, message: error.message, data }),
    });
    await worker.start();
    const producer = env.warmHints();
    await producer.queue.add(WARM_HINT_JOB_NAME, { agentId: 'BAD', extra: true });
    await waitFor('the bad hint to fail', () => failures.length === 1);
    expect(failures[0]).toMatchObject({ code: 'VALIDATION_FAILED', data: { agentId: 'BAD', extra: true } });
    expect(handled).toEqual([]);

    const agent = agentId();
    await producer.add({ agentId: agent, image: 'sandfleet/boom:1' });
    await waitFor('the throwing hint to fail', () => failures.length === 2);
    expect(failures[1]).toMatchObject({ message: 'warm failed', data: { agentId: agent } });
    // The worker keeps taking hints.
    const next = agentId();
    await producer.add({ agentId: next });
    await waitFor('the next hint', () => handled.some((hint) => hint.agentId === next));
  });

  it('skips a hint that waited in the queue past staleAfterMs, without calling the handler', async () => {
    const producer = env.warmHints();
    const stale = agentId();
    // As a hint queued 10 s ago, while no worker was there.
    await producer.queue.add(WARM_HINT_JOB_NAME, { agentId: stale }, { timestamp: Date.now() - 10_000 });
    const skipped: { agentId: string; ageMs: number }[] = [];
    const handled: WarmHint[] = [];
    await env
      .warmHintWorker({
        staleAfterMs: 5000,
        handler: async (hint) => void handled.push(hint),
        onStale: (hint, ageMs) => skipped.push({ agentId: hint.agentId, ageMs }),
      })
      .start();
    await waitFor('the stale hint', () => skipped.length === 1);
    expect(skipped[0]).toEqual({ agentId: stale, ageMs: expect.any(Number) });
    expect(skipped[0]?.ageMs).toBeGreaterThanOrEqual(10_000);
    const fresh = agentId();
    await producer.add({ agentId: fresh });
    await waitFor('the fresh hint', () => handled.length === 1);
    expect(handled).toEqual([{ agentId: fresh }]);
  });

  it('fails fast with QUEUE_UNAVAILABLE while Redis is unreachable', async () => {
    const producer = env.warmHints({ redisUrl: 'redis://127.0.0.1:1' });
    await expect(producer.add({ agentId: agentId() })).rejects.toMatchObject({
      code: 'QUEUE_UNAVAILABLE',
      retryable: true,
    });
  });
});
