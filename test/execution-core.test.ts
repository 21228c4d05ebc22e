import { type OutputEvent, StepEvent } from '@sandfleet/contracts';
import { Queue } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TEST_REDIS_URL, TestFleet } from './support/test-fleet.js';

function outputText(events: StepEvent[], stream?: 'stdout' | 'stderr'): string {
  return events
    .filter((e): e is OutputEvent => e.type === 'output' && (stream === undefined || e.stream === stream))
    .map((e) => e.data)
    .join('');
}

function expectGapFree(events: StepEvent[]): void {
  expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
  for (const event of events) expect(StepEvent.safeParse(event).success).toBe(true);
}

describe('execution core', () => {
  let fleet: TestFleet;

  beforeAll(async () => {
    fleet = await TestFleet.create();
    await fleet.startWorker({ SANDFLEET_WORKER_CONCURRENCY: '4' }, { API_TOKEN: 'tok-9f8e7d6c5b4a' });
  });

  afterEach(async () => {
    expect(await fleet.leftovers()).toEqual([]);
  });

  afterAll(async () => {
    await fleet?.close();
  });

  it('streams 10,000 numbered lines once and in order, live and by replay, and stores them', async () => {
    const id = fleet.stepId();
    const live = fleet.events(id);
    await fleet.queue.enqueue({ id, agentId: fleet.agentId(), command: ['seq', '1', '10000'] });
    const events = await live;
    const expected = Array.from({ length: 10_000 }, (_, i) => `${i + 1}\n`).join('');
    expect(outputText(events)).toBe(expected);
    expectGapFree(events);
    const replayed = await fleet.replay(id);
    expect(replayed).toEqual(events);
    expect(events.filter((e) => e.type === 'output').length).toBeLessThan(1000);
    const row = await fleet.terminal(id);
    expect(row).toMatchObject({
      status: 'succeeded',
      exitCode: 0,
      output: expected,
      outputTruncated: false,
      attempts: 1,
    });
  });

  it('truncates output over the step limit with one visible marker and keeps memory bounded', async () => {
    const id = fleet.stepId();
    const live = fleet.events(id);
    await fleet.queue.enqueue({
      id,
      agentId: fleet.agentId(),
      command: { script: 'yes sandfleet | head -c 5000000' },
      limits: { outputBytes: 4096 },
    });
    const events = await live;
    expect(events.filter((e) => e.type === 'truncated')).toHaveLength(1);
    expect(Buffer.byteLength(outputText(events))).toBe(4096);
    const row = await fleet.terminal(id);
    expect(row).toMatchObject({ status: 'succeeded', outputTruncated: true, outputBytes: 5_000_000 });
    expect(row.output).toBe(outputText(events));
  });

  it.each([
    [0, 'succeeded'],
    [3, 'failed'],
    [42, 'failed'],
  ])('records exit code %i as %s', async (code, status) => {
    const id = fleet.stepId();
    await fleet.queue.enqueue({
      id,
      agentId: fleet.agentId(),
      command: { script: `echo out; echo err >&2; exit ${code}` },
    });
    const events = await fleet.events(id);
    expect(outputText(events, 'stdout')).toBe('out\n');
    expect(outputText(events, 'stderr')).toBe('err\n');
    expect(events.at(-1)).toMatchObject({ type: 'finished', status, exitCode: code });
    expect(await fleet.terminal(id)).toMatchObject({ status, exitCode: code });
  });

  it('stops a step at its timeout and records timed_out', async () => {
    const id = fleet.stepId();
    const started = Date.now();
    await fleet.queue.enqueue({
      id,
      agentId: fleet.agentId(),
      command: ['sleep', '60'],
      limits: { timeoutMs: 1000 },
    });
    const row = await fleet.terminal(id, 20_000);
    expect(row.status).toBe('timed_out');
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('records an out-of-memory kill under the memory limit', async () => {
    const id = fleet.stepId();
    await fleet.queue.enqueue({
      id,
      agentId: fleet.agentId(),
      command: ['dd', 'if=/dev/zero', 'of=/dev/null', 'bs=256M', 'count=1'],
      limits: { memoryMb: 32 },
    });
    const row = await fleet.terminal(id, 30_000);
    expect(row).toMatchObject({ status: 'failed', oomKilled: true });
  });

  it('contains a fork bomb under the pids limit', async () => {
    const id = fleet.stepId();
    await fleet.queue.enqueue({
      id,
      agentId: fleet.agentId(),
      command: { script: 'bomb() { bomb | bomb & }; bomb; sleep 2; echo survived' },
      limits: { pids: 32, timeoutMs: 8000 },
    });
    const row = await fleet.terminal(id, 30_000);
    expect(['succeeded', 'failed', 'timed_out']).toContain(row.status);
    expect(await fleet.leftovers()).toEqual([]);
  });

  it('cancels a running step within seconds', async () => {
    const id = fleet.stepId();
    const live = fleet.events(id);
    await fleet.queue.enqueue({
      id,
      agentId: fleet.agentId(),
      command: { script: 'echo started; sleep 60' },
    });
    await fleet.until('the step to print', async () =>
      (await fleet.replay(id)).some((e) => e.type === 'output'),
    );
    const requested = Date.now();
    expect(await fleet.cancel(id)).toMatchObject({ accepted: true, status: 'running' });
    const events = await live;
    expect(events.at(-1)).toMatchObject({ type: 'finished', status: 'cancelled' });
    expect(Date.now() - requested).toBeLessThan(8000);
    expect((await fleet.terminal(id)).status).toBe('cancelled');
  });

  it('cancels a queued step before it starts', async () => {
    const id = fleet.stepId();
    await fleet.queue.enqueue({ id, agentId: fleet.agentId(), command: ['echo', 'never'], delayMs: 60_000 });
    expect(await fleet.cancel(id)).toMatchObject({ accepted: true, status: 'cancelled' });
    const events = await fleet.events(id, 5000);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'finished', status: 'cancelled', seq: 1 });
    expect(await fleet.queue.jobState(id)).toBe('unknown');
    expect(await fleet.terminal(id)).toMatchObject({ status: 'cancelled', attempts: 0 });
  });

  it('runs a job added with plain BullMQ and records it', async () => {
    const id = fleet.stepId();
    const plain = new Queue('steps', { connection: { url: TEST_REDIS_URL }, prefix: fleet.prefix });
    try {
      await plain.add('step', { agentId: fleet.agentId(), command: ['echo', 'from bullmq'] }, { jobId: id });
      const row = await fleet.terminal(id);
      expect(row).toMatchObject({ status: 'succeeded', output: 'from bullmq\n', attempts: 1 });
    } finally {
      await plain.close();
    }
  });

  it('ends a malformed plain BullMQ job in error with the validation message and keeps serving', async () => {
    const bad = fleet.stepId();
    const good = fleet.stepId();
    const plain = new Queue('steps', { connection: { url: TEST_REDIS_URL }, prefix: fleet.prefix });
    try {
      await plain.add('step', { agentId: 'Not Valid', command: [] }, { jobId: bad, attempts: 3 });
      const row = await fleet.terminal(bad);
      expect(row).toMatchObject({ status: 'error', errorCode: 'VALIDATION_FAILED', attempts: 0 });
      expect(row.error).toContain('agentId: must match ^[a-z0-9][a-z0-9_-]{0,62}$');
      expect(row.error).toContain('command');
      const events = await fleet.replay(bad);
      expect(events.at(-1)).toMatchObject({ type: 'finished', status: 'error' });
      const job = await plain.getJob(bad);
      expect(await job?.getState()).toBe('failed');
      expect(job?.attemptsMade).toBe(1);
      await plain.add('step', { agentId: fleet.agentId(), command: ['true'] }, { jobId: good });
      expect((await fleet.terminal(good)).status).toBe('succeeded');
    } finally {
      await plain.close();
    }
  });

  it('rejects files that escape the home at enqueue, naming the field, and writes nothing', async () => {
    for (const path of ['../etc/passwd', '/etc/passwd', 'a/../../b']) {
      const id = fleet.stepId();
      const error = await fleet.queue
        .enqueue({ id, agentId: fleet.agentId(), command: ['true'], files: [{ path, content: 'x' }] })
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'VALIDATION_FAILED' });
      expect((error as { issues: { path: string }[] }).issues.map((i) => i.path)).toContain('files.0.path');
      expect(await fleet.db.steps.get(id)).toBeUndefined();
      expect(await fleet.queue.jobState(id)).toBe('unknown');
    }
  });

  it('injects files and input before start', async () => {
    const id = fleet.stepId();
    await fleet.queue.enqueue({
      id,
      agentId: fleet.agentId(),
      command: { script: 'cat persona/SOUL.md; cat "$SANDFLEET_INPUT_FILE"; echo; echo "$SANDFLEET_INPUT"' },
      files: [{ path: 'persona/SOUL.md', content: 'I am careful.\n' }],
      input: { task: 'hello' },
    });
    const row = await fleet.terminal(id);
    expect(row.output).toBe('I am careful.\n{"task":"hello"}\n{"task":"hello"}\n');
  });

  it('fails a step naming an unknown secret before any container, and does not retry it', async () => {
    const id = fleet.stepId();
    await fleet.queue.enqueue({
      id,
      agentId: fleet.agentId(),
      command: ['true'],
      secrets: ['NOPE'],
      attempts: 3,
    });
    const row = await fleet.terminal(id);
    expect(row).toMatchObject({ status: 'error', errorCode: 'UNKNOWN_SECRET', attempts: 0 });
    expect(row.error).toContain('NOPE');
  });

  it('retries a missing image as an infrastructure failure, then ends in error naming the image', async () => {
    const id = fleet.stepId();
    await fleet.queue.enqueue({
      id,
      agentId: fleet.agentId(),
      command: ['true'],
      image: 'sandfleet/test-busybox:absent',
      attempts: 2,
    });
    const row = await fleet.terminal(id, 30_000);
    expect(row).toMatchObject({ status: 'error', errorCode: 'IMAGE_NOT_FOUND', attempts: 2 });
    expect(row.error).toContain('sandfleet/test-busybox:absent');
    const statuses = (await fleet.replay(id)).filter((e) => e.type === 'status').map((e) => e.status);
    expect(statuses).toEqual(['running', 'queued', 'running']);
  });

  it('refuses an image outside the allowlist before any container', async () => {
    const id = fleet.stepId();
    await fleet.queue.enqueue({
      id,
      agentId: fleet.agentId(),
      command: ['true'],
      image: 'evil/miner:latest',
    });
    const row = await fleet.terminal(id);
    expect(row).toMatchObject({ status: 'error', errorCode: 'IMAGE_NOT_ALLOWED' });
  });

  it('redacts a secret the step prints from events, stored output and logs', async () => {
    const id = fleet.stepId();
    await fleet.queue.enqueue({
      id,
      agentId: fleet.agentId(),
      command: {
        script: 'echo "token=$API_TOKEN"; printf %s "$API_TOKEN" | base64; echo "$API_TOKEN" >&2; exit 1',
      },
      secrets: ['API_TOKEN'],
    });
    const row = await fleet.terminal(id);
    const events = await fleet.replay(id);
    const secret = 'tok-9f8e7d6c5b4a';
    const base64 = Buffer.from(secret).toString('base64');
    expect(row.output).toContain('token=***');
    for (const text of [
      row.output,
      JSON.stringify(events),
      JSON.stringify(row),
      fleet.workers[0]?.logs.join('') ?? '',
    ]) {
      expect(text).not.toContain(secret);
      expect(text).not.toContain(base64);
    }
    const raw = await fleet.redis.xrange(fleet.names.events(id), '-', '+');
    expect(JSON.stringify(raw)).not.toContain(secret);
  });
});
