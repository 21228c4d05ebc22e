import { createHash, randomBytes } from 'node:crypto';
import type { ApiToken } from '@sandfleet/config';
import { fleetNames } from '@sandfleet/contracts';
import { createDatabase, type SandfleetDatabase } from '@sandfleet/db';
import { createLogger } from '@sandfleet/logging';
import { createRedisConnection, StepQueue, WarmHintQueue } from '@sandfleet/queue';
import { StepCanceller, StepOutcomes } from '@sandfleet/steps';
import { CancelBus, EventSubscriber, StepEventPublisher } from '@sandfleet/stream';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/index.js';

const DATABASE_URL =
  process.env.SANDFLEET_TEST_DATABASE_URL ?? 'postgres://sandfleet:sandfleet@127.0.0.1:5432/sandfleet';
const REDIS_URL = process.env.SANDFLEET_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

const id = randomBytes(5).toString('hex');
const token = (name: string, scope: ApiToken['scope'] = {}) => {
  const text = randomBytes(24).toString('hex');
  const entry: ApiToken = { name, sha256: createHash('sha256').update(text).digest('hex'), scope };
  return { text, entry };
};
const admin = token('env-1');
const teamA = token('team-a', { agents: ['team-a-*'], images: ['sandfleet/agent-runtime:*'] });

interface ErrorAnswer {
  error: { code: string; message: string; issues?: { path: string; message: string }[] };
}

/** The API on its own PostgreSQL schema and Redis prefix; no worker, no Docker. */
describe('POST /v1/agents/{agentId}/warm', () => {
  const prefix = `sftest-${id}`;
  let db: SandfleetDatabase;
  let redis: ReturnType<typeof createRedisConnection>;
  let queue: StepQueue;
  let warmHints: WarmHintQueue;
  let subscriber: EventSubscriber;
  let cancelBus: CancelBus;
  let app: FastifyInstance;

  const warm = (agentId: string, options: { token?: string; payload?: unknown; headers?: object } = {}) =>
    app.inject({
      method: 'POST',
      url: `/v1/agents/${encodeURIComponent(agentId)}/warm`,
      headers: {
        ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
        ...options.headers,
      },
      ...(options.payload === undefined ? {} : { payload: options.payload as object }),
    });
  const queued = async () =>
    (await warmHints.queue.getJobs(['waiting']))
      .map((job) => job.data)
      .sort((a, b) => a.agentId.localeCompare(b.agentId));

  beforeAll(async () => {
    db = createDatabase({ connectionString: DATABASE_URL, schema: `t_${id}`, maxConnections: 2 });
    await db.migrate();
    redis = createRedisConnection({ url: REDIS_URL, role: 'producer', name: `sandfleet-test-${id}` });
    queue = new StepQueue({ redisUrl: REDIS_URL, prefix, store: db.steps });
    warmHints = new WarmHintQueue({ redisUrl: REDIS_URL, prefix });
    const names = fleetNames(prefix);
    subscriber = new EventSubscriber({ redis, names });
    cancelBus = new CancelBus({ redis, names });
    const outcomes = new StepOutcomes({
      steps: db.steps,
      openPublisher: (options) => StepEventPublisher.open({ redis, names, ...options }),
    });
    app = buildApp({
      db,
      queue,
      warmHints,
      subscriber,
      canceller: new StepCanceller({ steps: db.steps, queue, cancelBus, outcomes }),
      pingRedis: () => redis.ping(),
      logger: createLogger({ name: 'api', level: 'silent' }),
      auth: { tokens: [admin.entry, teamA.entry] },
    });
    await app.ready();
  }, 30_000);

  afterAll(async () => {
    await app?.close();
    await subscriber?.close();
    await cancelBus?.close();
    await warmHints?.queue.obliterate({ force: true });
    await queue?.queue.obliterate({ force: true });
    await warmHints?.close();
    await queue?.close();
    const left = await redis?.keys(`${prefix}:*`);
    redis?.disconnect();
    await db?.dropSchema();
    await db?.close();
    expect(left).toEqual([]);
  }, 30_000);

  it('answers 202 { agentId, accepted: true } and queues one hint, with or without a body', async () => {
    const bare = await warm('alice', { token: admin.text });
    expect(bare.statusCode).toBe(202);
    expect(bare.json()).toEqual({ agentId: 'alice', accepted: true });
    // `curl -X POST -H 'content-type: application/json'` without `-d`: no body, not a bad one.
    const empty = await warm('bob', { token: admin.text, headers: { 'content-type': 'application/json' } });
    expect(empty.statusCode).toBe(202);
    const imaged = await warm('carol', {
      token: admin.text,
      payload: { image: 'sandfleet/agent-runtime:2' },
    });
    expect(imaged.statusCode).toBe(202);
    expect(await queued()).toEqual([
      { agentId: 'alice' },
      { agentId: 'bob' },
      { agentId: 'carol', image: 'sandfleet/agent-runtime:2' },
    ]);
    // A burst for one agent is one hint.
    for (let i = 0; i < 5; i++) expect((await warm('alice', { token: admin.text })).statusCode).toBe(202);
    expect((await queued()).filter((hint) => hint.agentId === 'alice')).toHaveLength(1);
  });

  it('refuses a bad agent id or body with 400 VALIDATION_FAILED naming each field', async () => {
    const before = await queued();
    const badAgent = await warm('Not_An-Agent!', { token: admin.text });
    expect(badAgent.statusCode).toBe(400);
    expect(badAgent.json<ErrorAnswer>().error).toMatchObject({
      code: 'VALIDATION_FAILED',
      issues: [{ path: 'agentId', message: expect.stringContaining('must match') }],
    });
    const badBody = await warm('dave', { token: admin.text, payload: { image: 'Bad Image', limits: {} } });
    expect(badBody.statusCode).toBe(400);
    expect(badBody.json<ErrorAnswer>().error.issues).toEqual([
      { path: 'image', message: 'must be a Docker image reference' },
      { path: 'limits', message: 'is not a known field' },
    ]);
    const notJson = await warm('dave', {
      token: admin.text,
      headers: { 'content-type': 'application/json' },
      payload: '{',
    });
    expect(notJson.statusCode).toBe(400);
    expect(notJson.json<ErrorAnswer>().error.code).toBe('INVALID_BODY');
    expect(await queued()).toEqual(before);
  });

  it('refuses a request without a valid token with 401 UNAUTHORIZED', async () => {
    for (const authorization of [undefined, `Bearer ${randomBytes(24).toString('hex')}`]) {
      const response = await warm('erin', authorization ? { headers: { authorization } } : {});
      expect(response.statusCode).toBe(401);
      expect(response.json<ErrorAnswer>().error.code).toBe('UNAUTHORIZED');
      expect(response.headers['www-authenticate']).toMatch(/^Bearer/);
    }
    expect((await queued()).some((hint) => hint.agentId === 'erin')).toBe(false);
  });

  it('scopes the agent and the image to the token as for a step: 403 FORBIDDEN outside them', async () => {
    const ok = await warm('team-a-1', { token: teamA.text, payload: { image: 'sandfleet/agent-runtime:1' } });
    expect(ok.statusCode).toBe(202);
    const refusals = [
      ['team-b-1', { image: 'sandfleet/agent-runtime:1' }, 'agentId: not allowed for token team-a'],
      ['team-a-2', { image: 'busybox:latest' }, 'image: not allowed for token team-a'],
      ['team-a-3', undefined, 'image: must be named (the default image is not in scope) for token team-a'],
    ] as const;
    for (const [agentId, payload, message] of refusals) {
      const response = await warm(agentId, { token: teamA.text, ...(payload ? { payload } : {}) });
      expect(response.statusCode, agentId).toBe(403);
      expect(response.json<ErrorAnswer>().error).toEqual({ code: 'FORBIDDEN', message });
    }
    const agents = (await queued()).map((hint) => hint.agentId);
    expect(agents).toContain('team-a-1');
    expect(agents.filter((agent) => /^team-a-[23]$|^team-b/.test(agent))).toEqual([]);
  });

  it('documents the route in the OpenAPI document', async () => {
    const response = await app.inject({
      method: 'GET',
      url: '/docs/json',
      headers: { authorization: `Bearer ${admin.text}` },
    });
    const route = response.json<{
      paths: Record<string, Record<string, { responses: object; tags: string[] }>>;
    }>().paths['/v1/agents/{agentId}/warm']?.post;
    expect(route?.tags).toEqual(['agents']);
    expect(Object.keys(route?.responses ?? {})).toEqual(
      expect.arrayContaining(['202', '400', '401', '403', '503']),
    );
  });
});
