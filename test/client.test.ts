import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { type AddressInfo, createServer } from 'node:net';
import { ApiError, SandfleetClient } from '@sandfleet/client';
import { SandfleetError, type StepEvent } from '@sandfleet/contracts';
import { Queue } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type RunningApi, startTestApi, testToken } from './support/test-api.js';
import { TEST_REDIS_URL, TestFleet } from './support/test-fleet.js';

describe('@sandfleet/client against a real API', () => {
  let fleet: TestFleet;
  let api: RunningApi;
  let client: SandfleetClient;
  let agentId: string;
  /** Steps with ids not of the fleet's form, whose event keys `fleet.close()` does not know. */
  const otherIds: string[] = [];

  beforeAll(async () => {
    fleet = await TestFleet.create();
    await fleet.startWorker({ SANDFLEET_WORKER_CONCURRENCY: '4' });
    const token = testToken();
    api = await startTestApi(fleet, { SANDFLEET_API_TOKENS: token });
    client = new SandfleetClient({ baseUrl: api.url, token });
    agentId = fleet.agentId();
  });

  afterEach(async () => {
    expect(await fleet.leftovers()).toEqual([]);
  });

  afterAll(async () => {
    await api?.close();
    if (fleet && otherIds.length > 0) await fleet.redis.del(...otherIds.map(fleet.names.events));
    await fleet?.close();
  });

  const collect = async (events: AsyncIterable<StepEvent>) => {
    const all: StepEvent[] = [];
    for await (const event of events) all.push(event);
    return all;
  };

  it('creates one step for the same idempotency key twice and waits for it to finish', async () => {
    const idempotencyKey = `order-${randomBytes(6).toString('hex')}`;
    const spec = { agentId, command: ['echo', 'once'] };
    const first = await client.createStep(spec, { idempotencyKey });
    const again = await client.createStep(spec, { idempotencyKey });
    otherIds.push(first.id);
    expect(first).toEqual({ id: expect.stringMatching(/^idem-[0-9a-f]{32}$/), created: true });
    expect(again).toEqual({ id: first.id, created: false });
    const step = await client.waitForFinished(first.id);
    expect(step).toMatchObject({ id: first.id, agentId, status: 'succeeded', exitCode: 0, output: 'once\n' });
    expect(await client.getStep(first.id)).toMatchObject({ status: 'succeeded', attempts: 1 });
  });

  it('enqueues a batch: one result per spec in order, a bad spec refused alone, each id once', async () => {
    const [a, b] = [fleet.stepId(), fleet.stepId()];
    const specs = [
      { id: a, agentId, command: ['echo', 'batch'] },
      { id: fleet.stepId(), agentId: 'Not Valid', command: ['true'] },
      { id: b, agentId, command: ['true'] },
    ];
    const results = await client.createSteps(specs);
    expect(results).toEqual([
      { id: a, created: true },
      { error: { code: 'VALIDATION_FAILED', message: expect.stringMatching(/^steps\[1\]\.agentId: /) } },
      { id: b, created: true },
    ]);
    expect(await client.createSteps([specs[0] as (typeof specs)[0]])).toEqual([{ id: a, created: false }]);
    expect(await client.waitForFinished(a)).toMatchObject({ status: 'succeeded', output: 'batch\n' });
    // Its container gone before the next test looks for leftovers.
    expect(await client.waitForFinished(b)).toMatchObject({ status: 'succeeded' });
    await expect(client.createSteps([])).rejects.toMatchObject({ code: 'VALIDATION_FAILED', status: 400 });
  });

  it('streams events live, then replays the same events, and resumes after `since`', async () => {
    const id = fleet.stepId();
    expect(
      await client.createStep({ id, agentId, command: { script: 'echo one; sleep 1; echo two; exit 4' } }),
    ).toEqual({ id, created: true });
    const live = await collect(client.events(id));
    expect(live.map((event) => event.seq)).toEqual(live.map((_event, index) => index + 1));
    expect(live.filter((event) => event.type === 'output').map((event) => event.data)).toEqual([
      'one\n',
      'two\n',
    ]);
    expect(live.at(-1)).toMatchObject({ type: 'finished', status: 'failed', exitCode: 4 });

    expect(await collect(client.events(id))).toEqual(live);
    expect(await collect(client.events(id, { since: 2 }))).toEqual(live.slice(2));
  });

  it('pages through listSteps with nextCursor, newest first, each step once', async () => {
    const batch = `p${randomBytes(4).toString('hex')}`;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const { id } = await client.createStep({
        id: `${fleet.stepId()}-${i}`,
        agentId,
        command: ['true'],
        labels: { batch },
      });
      ids.push(id);
    }
    const pages: string[][] = [];
    let cursor: string | undefined;
    do {
      const page = await client.listSteps({ label: { key: 'batch', value: batch }, limit: 2, cursor });
      pages.push(page.items.map((step) => step.id));
      expect(page.items.every((step) => step.labels.batch === batch && step.agentId === agentId)).toBe(true);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(pages.map((page) => page.length)).toEqual([2, 2, 1]);
    expect(pages.flat()).toEqual([...ids].reverse());
    expect(
      (await client.listSteps({ label: `batch:${batch}`, agentId, status: 'queued', limit: 500 })).items
        .length,
    ).toBeLessThanOrEqual(5);
    for (const id of ids) await client.waitForFinished(id);
  });

  it('cancels a running step', async () => {
    const id = fleet.stepId();
    await client.createStep({ id, agentId, command: ['sleep', '30'] });
    for await (const event of client.events(id))
      if (event.type === 'status' && event.status === 'running') break;
    expect(await client.cancelStep(id)).toEqual({ stepId: id, status: 'running', accepted: true });
    expect(await client.waitForFinished(id)).toMatchObject({ status: 'cancelled' });
    expect(await client.cancelStep(id)).toEqual({ stepId: id, status: 'cancelled', accepted: false });
  });

  it('fails with ApiError carrying the API’s code and status: 401, 400, 404', async () => {
    const refused = new SandfleetClient({ baseUrl: api.url, token: testToken() });
    const unauthorized = await refused.listSteps().catch((error: unknown) => error);
    expect(unauthorized).toBeInstanceOf(ApiError);
    expect(unauthorized).toBeInstanceOf(SandfleetError);
    expect(unauthorized).toMatchObject({ code: 'UNAUTHORIZED', status: 401, retryable: false });
    await expect(collect(refused.events(fleet.stepId()))).rejects.toMatchObject({ code: 'UNAUTHORIZED' });

    const id = fleet.stepId();
    await expect(client.createStep({ id, agentId: 'Not Valid', command: ['true'] })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      status: 400,
      issues: [{ path: 'agentId', message: expect.any(String) }],
    });
    await expect(client.listSteps({ limit: 0 })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      status: 400,
    });
    await expect(client.listSteps({ cursor: 'nonsense' })).rejects.toMatchObject({
      code: 'INVALID_CURSOR',
      status: 400,
    });
    await expect(
      client.createStep({ agentId, command: ['true'] }, { idempotencyKey: '' }),
    ).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });

    await expect(client.getStep(id)).rejects.toMatchObject({ code: 'STEP_NOT_FOUND', status: 404 });
    await expect(client.cancelStep(id)).rejects.toMatchObject({ code: 'STEP_NOT_FOUND', status: 404 });
    await expect(collect(client.events(id))).rejects.toMatchObject({ code: 'STEP_NOT_FOUND', status: 404 });
  });

  it('follows a step added by a plain BullMQ producer (queue steps, job step, job id = step id)', async () => {
    const { hostname, port } = new URL(TEST_REDIS_URL);
    // As in the root README, with the fleet's prefix instead of `sandfleet`.
    const queue = new Queue('steps', {
      connection: { host: hostname, port: Number(port) },
      prefix: fleet.prefix,
    });
    try {
      const id = fleet.stepId();
      const spec = { id, agentId, command: ['echo', 'from bullmq'] };
      await queue.add('step', spec, {
        jobId: id,
        attempts: 3,
        backoff: { type: 'exponential', delay: 1000 },
      });
      const events = await collect(client.events(id));
      expect(events.filter((event) => event.type === 'output').map((event) => event.data)).toEqual([
        'from bullmq\n',
      ]);
      expect(events.at(-1)).toMatchObject({ type: 'finished', status: 'succeeded' });
      expect(await client.waitForFinished(id)).toMatchObject({
        id,
        agentId,
        status: 'succeeded',
        output: 'from bullmq\n',
      });
    } finally {
      await queue.close();
    }
  });

  it('fails with a retryable API_UNREACHABLE when no API listens', async () => {
    // A port that was free a moment ago and has nothing listening now.
    const server = createServer().listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    server.close();
    await once(server, 'close');
    const nowhere = new SandfleetClient({
      baseUrl: `http://127.0.0.1:${port}`,
      reconnect: { attempts: 1, initialDelayMs: 10 },
    });
    await expect(nowhere.getStep('x')).rejects.toMatchObject({ code: 'API_UNREACHABLE', retryable: true });
    await expect(collect(nowhere.events('x'))).rejects.toMatchObject({ code: 'API_UNREACHABLE' });
  });
});
