import { createHash } from 'node:crypto';
import type { ApiToken } from '@sandfleet/config';
import type { StepBatchItemResult } from '@sandfleet/contracts';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fillToMaxmemory, startRedisServer, type TestRedisServer } from './support/redis-server.js';
import { buildTestApp, type TestApp, testToken } from './support/test-api.js';
import { TestFleet } from './support/test-fleet.js';

const BATCH = '/v1/steps/batch';
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
const scoped = (name: string, token: string, rest: Partial<ApiToken> = {}): ApiToken => ({
  name,
  sha256: sha256(token),
  scope: {},
  ...rest,
});

interface BatchAnswer {
  results: StepBatchItemResult[];
}

/** `POST /v1/steps/batch` of `payload` on `app` as `token`. */
const postBatch = (app: TestApp, token: string, payload: unknown) =>
  app.inject({ method: 'POST', url: BATCH, headers: bearer(token), payload: payload as object });

/** The ids of `items` that have a row, sorted. */
const recorded = async (fleet: TestFleet, items: readonly { id: string }[]) =>
  [...(await fleet.db.steps.getStates(items.map((item) => item.id))).keys()].sort();

/**
 * `POST /v1/steps/batch` over the API (in-process requests) on real PostgreSQL and Redis, with no
 * worker: each item's outcome is checked in the answer, in PostgreSQL and in the queue.
 */
describe('POST /v1/steps/batch', () => {
  let fleet: TestFleet;
  let app: TestApp;
  const tokens = { admin: testToken(), a: testToken(), q: testToken() };
  let agent: string;
  let agentA: string;
  let agentB: string;

  const post = (token: string, payload: unknown) => postBatch(app, token, payload);
  const spec = (extra: Record<string, unknown> = {}) => ({
    id: fleet.stepId(),
    agentId: agent,
    command: ['echo', 'hello'],
    ...extra,
  });

  beforeAll(async () => {
    fleet = await TestFleet.create();
    agent = fleet.agentId();
    agentA = fleet.agentId(`team-a-${fleet.id}-one`);
    agentB = fleet.agentId(`team-b-${fleet.id}-one`);
    app = await buildTestApp(fleet, {
      tokens: [
        tokens.admin,
        scoped('team-a', tokens.a, {
          scope: { agents: [`team-a-${fleet.id}-*`], secrets: ['TEAM_A_*'], team: 'team-a' },
        }),
        scoped('team-q', tokens.q, {
          scope: { agents: [`team-a-${fleet.id}-*`] },
          quotas: { maxQueued: 2, maxJobBytes: 64, createsPerMinute: 1000 },
        }),
      ],
      batchMaxSteps: 5,
      bodyLimitBytes: 4096,
      batchBodyLimitBytes: 64 * 1024,
    });
  });

  afterAll(async () => {
    await app?.close();
    await fleet?.close();
  });

  it('answers one result per item in order; a bad item fails only itself, naming its index and field', async () => {
    const [a, b, c] = [spec(), spec({ priority: 3 }), spec({ delayMs: 3_600_000 })];
    const missing = fleet.stepId();
    const answer = await post(tokens.admin, {
      steps: [a, { id: missing, command: ['true'] }, b, spec({ surprise: 1, labels: { 'bad key': 'x' } }), c],
    });
    expect(answer.statusCode).toBe(200);
    const { results } = answer.json<BatchAnswer>();
    expect(results).toHaveLength(5);
    expect(results[0]).toEqual({ id: a.id, created: true });
    expect(results[1]).toEqual({
      error: { code: 'VALIDATION_FAILED', message: 'steps[1].agentId: is required' },
    });
    expect(results[2]).toEqual({ id: b.id, created: true });
    expect(results[3]).toMatchObject({ error: { code: 'VALIDATION_FAILED' } });
    const message = (results[3] as { error: { message: string } }).error.message;
    expect(message).toContain('steps[3].surprise: is not a known field');
    expect(message).toContain('steps[3].labels.bad key:');
    expect(results[4]).toEqual({ id: c.id, created: true });
    expect(await recorded(fleet, [a, b, c, { id: missing }])).toEqual([a.id, b.id, c.id].sort());
    expect(await fleet.db.steps.get(a.id)).toMatchObject({ status: 'queued' });
    expect(await fleet.queue.jobState(a.id)).toBe('waiting');
    expect(await fleet.queue.jobState(b.id)).toBe('prioritized');
    expect(await fleet.queue.jobState(c.id)).toBe('delayed');
    expect(await fleet.queue.jobState(missing)).toBe('unknown');
    expect((await fleet.db.steps.get(a.id))?.producer).toBe('env-1');
  });

  it('is idempotent by id: the same batch again answers created false, with one row and one job each; an id twice in a batch is one step', async () => {
    const [a, b] = [spec(), spec()];
    const first = await post(tokens.admin, { steps: [a, b, { ...a, command: ['echo', 'second'] }] });
    expect(first.json<BatchAnswer>().results).toEqual([
      { id: a.id, created: true },
      { id: b.id, created: true },
      { id: a.id, created: false },
    ]);
    const again = await post(tokens.admin, { steps: [b, a] });
    expect(again.statusCode).toBe(200);
    expect(again.json<BatchAnswer>().results).toEqual([
      { id: b.id, created: false },
      { id: a.id, created: false },
    ]);
    const jobs = await fleet.queue.queue.getJobs(['waiting']);
    expect(jobs.filter((job) => job.id === a.id || job.id === b.id)).toHaveLength(2);
    expect((await fleet.queue.queue.getJob(a.id))?.data.command).toEqual(['echo', 'hello']);
    expect((await fleet.db.steps.get(a.id))?.command).toEqual(['echo', 'hello']);
  });

  it('checks each item against the token’s scope: out of scope is FORBIDDEN naming the item and field, and writes nothing for it', async () => {
    const theirs = spec({ agentId: agentB });
    expect((await post(tokens.admin, { steps: [theirs] })).statusCode).toBe(200);
    const ok = spec({ agentId: agentA, secrets: ['TEAM_A_KEY'] });
    const items = [
      ok,
      spec({ agentId: agentB }),
      spec({ agentId: agentA, secrets: ['TEAM_A_KEY', 'TEAM_B_KEY'] }),
      spec({ agentId: agentA, sharedVault: { team: 'team-b' } }),
      { ...theirs, agentId: agentA },
    ];
    const answer = await post(tokens.a, { steps: items });
    expect(answer.statusCode).toBe(200);
    expect(answer.json<BatchAnswer>().results).toEqual([
      { id: ok.id, created: true },
      { error: { code: 'FORBIDDEN', message: 'steps[1].agentId: not allowed for token team-a' } },
      { error: { code: 'FORBIDDEN', message: 'steps[2].secrets.1: not allowed for token team-a' } },
      { error: { code: 'FORBIDDEN', message: 'steps[3].sharedVault.team: not allowed for token team-a' } },
      // Another agent's step, named by its id: not even `created: false`.
      { error: { code: 'FORBIDDEN', message: 'steps[4].stepId: not allowed for token team-a' } },
    ]);
    expect(await recorded(fleet, items)).toEqual([ok.id, theirs.id].sort());
    for (const item of items.slice(1, 4)) expect(await fleet.queue.jobState(item.id)).toBe('unknown');
    // The row and the job carry the token's name and team.
    expect(await fleet.db.steps.get(ok.id)).toMatchObject({ producer: 'team-a', agentId: agentA });
    expect((await fleet.queue.queue.getJob(ok.id))?.data.sharedVault).toEqual({
      team: 'team-a',
      access: 'read',
    });
    expect((await fleet.db.steps.get(theirs.id))?.agentId).toBe(agentB);
  });

  it('keeps a chat session to the agent that started it, within a batch too', async () => {
    const session = fleet.stepId();
    const other = fleet.agentId();
    const chat = (agentId: string) => spec({ agentId, kind: 'chat', chatSessionId: session });
    const items = [chat(agent), chat(other), chat(agent)];
    const answer = await post(tokens.admin, { steps: items });
    expect(answer.json<BatchAnswer>().results).toEqual([
      { id: items[0]?.id, created: true },
      {
        error: {
          code: 'CHAT_SESSION_CONFLICT',
          message: `steps[1].chatSessionId: session ${session} belongs to another agent than ${other}`,
        },
      },
      { id: items[2]?.id, created: true },
    ]);
    expect(await recorded(fleet, items)).toEqual([items[0]?.id, items[2]?.id].sort());
  });

  it('holds each item to the token’s quotas: job size, and steps not yet ended counting the batch’s own', async () => {
    const items = [
      spec({ agentId: agentA }),
      spec({ agentId: agentA, env: { BIG: 'x'.repeat(100) } }),
      spec({ agentId: agentA }),
      spec({ agentId: agentA }),
    ];
    const answer = await post(tokens.q, { steps: items });
    const { results } = answer.json<BatchAnswer>();
    expect(results[0]).toEqual({ id: items[0]?.id, created: true });
    expect(results[1]).toEqual({
      error: {
        code: 'RATE_LIMITED',
        message:
          'steps[1]: the job has 103 bytes of files, input and env, over 64 for token team-q; try again later',
      },
    });
    expect(results[2]).toEqual({ id: items[2]?.id, created: true });
    expect(results[3]).toEqual({
      error: {
        code: 'RATE_LIMITED',
        message: 'steps[3]: 2 steps not yet ended, the most allowed (2) for token team-q; try again later',
      },
    });
    expect(await recorded(fleet, items)).toEqual([items[0]?.id, items[2]?.id].sort());
    // Posted again, the steps already recorded still answer created false.
    const again = await post(tokens.q, { steps: [items[0]] });
    expect(again.json<BatchAnswer>().results).toEqual([{ id: items[0]?.id, created: false }]);
  });

  it('refuses a body that is not a batch, or holds more steps than allowed, with 400 VALIDATION_FAILED, writing nothing', async () => {
    const cases: [unknown, string][] = [
      [{ steps: [] }, 'invalid step batch: steps: must hold at least one step'],
      [{ steps: 'x' }, 'invalid step batch: steps: must be an array of StepSpecs'],
      [{ spec: [] }, 'invalid step batch: steps: is required; spec: is not a known field'],
    ];
    for (const [payload, message] of cases) {
      const answer = await post(tokens.admin, payload);
      expect(answer.statusCode).toBe(400);
      expect(answer.json().error).toMatchObject({ code: 'VALIDATION_FAILED', message });
    }
    const items = Array.from({ length: 6 }, () => spec());
    const over = await post(tokens.admin, { steps: items });
    expect(over.statusCode).toBe(400);
    expect(over.json().error).toMatchObject({
      code: 'VALIDATION_FAILED',
      message: 'invalid step batch: steps: holds 6 steps, more than the 5 a batch may hold',
    });
    expect(await recorded(fleet, items)).toHaveLength(0);
    expect(await fleet.queue.jobState(items[0]?.id as string)).toBe('unknown');
  });

  it('takes a body larger than a single step’s limit, up to its own limit (413 past it)', async () => {
    const padded = () => spec({ input: 'p'.repeat(2000) });
    const items = [padded(), padded(), padded()];
    const single = await app.inject({
      method: 'POST',
      url: '/v1/steps',
      headers: bearer(tokens.admin),
      payload: { ...items[0], input: 'i'.repeat(5000) },
    });
    expect(single.statusCode).toBe(413);
    const answer = await post(tokens.admin, { steps: items });
    expect(answer.statusCode).toBe(200);
    expect(answer.json<BatchAnswer>().results.every((r) => 'id' in r && r.created)).toBe(true);
    const huge = await post(tokens.admin, {
      steps: Array.from({ length: 5 }, () => spec({ input: 'h'.repeat(14 * 1024) })),
    });
    expect(huge.statusCode).toBe(413);
    expect(huge.json().error.code).toBe('BODY_TOO_LARGE');
  });

  it('documents the route in the OpenAPI document', async () => {
    const doc = (
      await app.inject({ method: 'GET', url: '/docs/json', headers: bearer(tokens.admin) })
    ).json();
    const route = doc.paths[BATCH].post;
    expect(route.requestBody.content['application/json'].schema.properties.steps).toMatchObject({
      type: 'array',
      maxItems: 5,
    });
    expect(Object.keys(route.responses)).toEqual(expect.arrayContaining(['200', '400', '413', '503']));
  });
});

describe('POST /v1/steps/batch when Redis fails', () => {
  let redis: TestRedisServer | undefined;
  let fleet: TestFleet | undefined;
  let app: TestApp | undefined;
  const token = testToken();

  afterEach(async () => {
    await app?.close();
    await fleet?.close();
    await redis?.close();
    app = fleet = redis = undefined;
  });

  const batch = (f: TestFleet, n: number) => {
    const agentId = f.agentId();
    return Array.from({ length: n }, () => ({ id: f.stepId(), agentId, command: ['echo', 'hello'] }));
  };

  it('answers 503 QUEUE_UNAVAILABLE while Redis is unreachable, leaving no row behind', async () => {
    redis = await startRedisServer(['--appendonly', 'no']);
    fleet = await TestFleet.create({ redisUrl: redis.url });
    app = await buildTestApp(fleet, { tokens: [token] });
    const warm = batch(fleet, 1);
    expect((await postBatch(app as TestApp, token, { steps: warm })).statusCode).toBe(200);
    await redis.stop();
    await fleet.until('the fleet to see Redis gone', async () => fleet?.redis.status !== 'ready', 10_000);
    const items = batch(fleet, 20);
    const answer = await postBatch(app as TestApp, token, { steps: items });
    expect(answer.statusCode).toBe(503);
    expect(answer.json().error.code).toBe('QUEUE_UNAVAILABLE');
    expect(answer.headers['retry-after']).toBe('1');
    expect(await recorded(fleet, items)).toHaveLength(0);
    await redis.start();
    // Once Redis is back the same batch goes in.
    await fleet.until(
      'the producer to reconnect',
      async () => {
        const retried = await postBatch(app as TestApp, token, { steps: items });
        return retried?.statusCode === 200;
      },
      20_000,
    );
    expect(await recorded(fleet, items)).toHaveLength(20);
  });

  it('answers 503 QUEUE_FULL when Redis is at maxmemory, leaving neither rows nor jobs of the batch', async () => {
    redis = await startRedisServer(['--maxmemory', '2mb', '--maxmemory-policy', 'noeviction']);
    fleet = await TestFleet.create({ redisUrl: redis.url });
    app = await buildTestApp(fleet, { tokens: [token] });
    const full = await fillToMaxmemory(fleet.redis, fleet.prefix);
    const items = batch(fleet, 50);
    const answer = await postBatch(app as TestApp, token, { steps: items });
    expect(answer.statusCode).toBe(503);
    expect(answer.json().error.code).toBe('QUEUE_FULL');
    expect(await recorded(fleet, items)).toHaveLength(0);
    for (const item of items) expect(await fleet.queue.queue.getJob(item.id)).toBeFalsy();
    await full.release();
    const accepted = await postBatch(app as TestApp, token, { steps: items });
    expect(accepted.statusCode).toBe(200);
    expect(accepted.json<BatchAnswer>().results.every((r) => 'id' in r && r.created)).toBe(true);
  });
});
