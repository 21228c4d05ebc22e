import { AGENT_ID_PATTERN } from '@sandfleet/contracts';
import { createDatabase } from '@sandfleet/db';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, memoryLogger, type TestApp, testToken } from './support/test-api.js';
import { TestFleet, type TestWorker } from './support/test-fleet.js';

interface JsonSchemaObject {
  properties: Record<string, { pattern?: string }>;
  required?: string[];
}

interface OpenApiDocument {
  openapi: string;
  paths: Record<
    string,
    Record<string, { requestBody?: { content: Record<string, { schema: JsonSchemaObject }> } }>
  >;
}

interface ErrorBody {
  error: { code: string; message: string; issues?: { path: string; message: string }[]; details?: unknown };
}

describe('HTTP API (in-process requests)', () => {
  let fleet: TestFleet;
  let worker: TestWorker;
  let app: TestApp;
  let token: string;
  let logLines: string[];
  let agentId: string;
  const auth = () => ({ authorization: `Bearer ${token}` });

  const enqueue = async (spec: Record<string, unknown>, headers: Record<string, string> = {}) => {
    const response = await app.inject({
      method: 'POST',
      url: '/v1/steps',
      headers: { ...auth(), ...headers },
      payload: { agentId, ...spec },
    });
    expect(response.statusCode).toBe(202);
    return response.json<{ id: string; created: boolean }>();
  };

  beforeAll(async () => {
    fleet = await TestFleet.create();
    worker = await fleet.startWorker({ SANDFLEET_WORKER_CONCURRENCY: '4' });
    token = testToken();
    agentId = fleet.agentId();
    const { logger, lines } = memoryLogger();
    logLines = lines;
    app = await buildTestApp(fleet, { tokens: [token], logger });
  });

  afterEach(async () => {
    expect(await fleet.leftovers()).toEqual([]);
  });

  afterAll(async () => {
    await app?.close();
    await fleet?.close();
  });

  it('refuses every route but /healthz and /readyz without a valid token (401 UNAUTHORIZED)', async () => {
    for (const url of ['/v1/steps', '/metrics', '/docs/json', '/admin/queues/api/queues', '/no/such/route']) {
      for (const headers of [{}, { authorization: `Bearer ${testToken()}` }, { authorization: token }]) {
        const response = await app.inject({ method: 'GET', url, headers });
        expect(response.statusCode, `${url} ${JSON.stringify(headers)}`).toBe(401);
        expect(response.json<ErrorBody>().error.code).toBe('UNAUTHORIZED');
        expect(response.headers['www-authenticate']).toMatch(/^Bearer/);
      }
    }
    const post = await app.inject({
      method: 'POST',
      url: '/v1/steps',
      payload: { agentId, command: ['true'] },
    });
    expect(post.statusCode).toBe(401);
    expect((await fleet.db.steps.list({ agentId })).items).toEqual([]);
    expect((await app.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
    expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
    // The cookie holds a session id from a sign-in, never the token itself.
    const asToken = await app.inject({
      method: 'GET',
      url: '/v1/steps?limit=1',
      cookies: { sandfleet_session: token },
    });
    expect(asToken.statusCode).toBe(401);
    const login = await app.inject({ method: 'POST', url: '/login', payload: { token } });
    const session = login.cookies.find((c) => c.name === 'sandfleet_session');
    expect(session?.value).toBeTruthy();
    const cookie = await app.inject({
      method: 'GET',
      url: '/v1/steps?limit=1',
      cookies: { sandfleet_session: session?.value as string },
    });
    expect(cookie.statusCode).toBe(200);
  });

  it('answers 400 VALIDATION_FAILED naming each bad field of an invalid spec, and writes nothing', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/v1/steps',
      headers: auth(),
      payload: { agentId: 'Not An Agent!', command: [], colour: 'blue' },
    });
    expect(response.statusCode).toBe(400);
    const { error } = response.json<ErrorBody>();
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.message).toContain(`agentId: must match ${AGENT_ID_PATTERN.source}`);
    expect(error.issues?.map((issue) => issue.path)).toEqual(
      expect.arrayContaining(['agentId', 'command', 'colour']),
    );
    const badJson = await app.inject({
      method: 'POST',
      url: '/v1/steps',
      headers: { ...auth(), 'content-type': 'application/json' },
      payload: '{"agentId":',
    });
    expect(badJson.statusCode).toBe(400);
    expect(badJson.json<ErrorBody>().error.code).toBe('INVALID_BODY');
    const tooLarge = await app.inject({
      method: 'POST',
      url: '/v1/steps',
      headers: { ...auth(), 'content-type': 'application/json' },
      payload: JSON.stringify({ agentId, command: ['true'], input: 'x'.repeat(12 * 1024 * 1024) }),
    });
    expect(tooLarge.statusCode).toBe(413);
    expect(tooLarge.json<ErrorBody>().error.code).toBe('BODY_TOO_LARGE');
    const badKey = await app.inject({
      method: 'POST',
      url: '/v1/steps',
      headers: { ...auth(), 'idempotency-key': '' },
      payload: { agentId, command: ['true'] },
    });
    expect(badKey.json<ErrorBody>().error.issues?.[0]?.path).toBe('Idempotency-Key');
  });

  it('accepts a step with 202, runs it to succeeded, serves its row and puts its output in the job log', async () => {
    const { id, created } = await enqueue({ command: { script: 'seq 1 300' } });
    expect(created).toBe(true);
    const row = await fleet.terminal(id);
    expect(row.status).toBe('succeeded');
    const response = await app.inject({ method: 'GET', url: `/v1/steps/${id}`, headers: auth() });
    expect(response.statusCode).toBe(200);
    const body = response.json<Record<string, unknown>>();
    expect(body).toMatchObject({ id, agentId, status: 'succeeded', exitCode: 0, attempts: 1 });
    expect(body.output).toBe(Array.from({ length: 300 }, (_, i) => `${i + 1}\n`).join(''));
    expect(new Date(body.createdAt as string).toISOString()).toBe(body.createdAt);
    // The job log is written next to the outcome, not before it: wait for its last line.
    const logs = await fleet.until('the job log to be complete', async () => {
      const { logs } = await fleet.queue.queue.getJobLogs(id);
      return logs.at(-1)?.startsWith('finished') ? logs : undefined;
    });
    const lines = logs.slice(logs.findIndex((line) => line.startsWith('--- output')) + 1, -1);
    expect(lines).toEqual(Array.from({ length: 300 }, (_, i) => String(i + 1)));
  });

  it('makes retries safe with Idempotency-Key: the same key twice is one step and one row', async () => {
    const key = `order-${testToken()}`;
    const spec = { command: ['true'], labels: { test: 'idempotency' } };
    const first = await enqueue(spec, { 'idempotency-key': key });
    const second = await enqueue(spec, { 'idempotency-key': key });
    expect(first.id).toMatch(/^idem-[0-9a-f]{32}$/);
    expect(second).toEqual({ id: first.id, created: false });
    const withId = fleet.stepId();
    expect(await enqueue({ ...spec, id: withId }, { 'idempotency-key': key })).toEqual({
      id: withId,
      created: true,
    });
    await Promise.all([fleet.terminal(first.id), fleet.terminal(withId)]);
    const rows = await fleet.db.steps.list({ agentId, label: { key: 'test', value: 'idempotency' } });
    expect(rows.items.map((row) => row.id).sort()).toEqual([first.id, withId].sort());
  });

  it('lists steps newest first with filters, and cursor pages stay stable while steps arrive', async () => {
    const batch = testToken().slice(0, 8);
    const runId = `run-${batch}`;
    const ids: string[] = [];
    for (let i = 0; i < 7; i += 1) {
      const labels = { batch, parity: i % 2 === 0 ? 'even' : 'odd' };
      ids.push((await enqueue({ command: ['true'], labels, ...(i < 3 ? { runId } : {}) })).id);
    }
    await Promise.all(ids.map((id) => fleet.terminal(id)));
    const list = async (query: string) => {
      const response = await app.inject({ method: 'GET', url: `/v1/steps?${query}`, headers: auth() });
      expect(response.statusCode, query).toBe(200);
      return response.json<{ items: { id: string; createdAt: string }[]; nextCursor: string | null }>();
    };
    const newestFirst = [...ids].reverse();
    const first = await list(`label=batch:${batch}&limit=3`);
    expect(first.items.map((s) => s.id)).toEqual(newestFirst.slice(0, 3));
    // Steps created after the first page must not shift the following pages.
    const later = [
      await enqueue({ command: ['true'], labels: { batch } }),
      await enqueue({ command: ['true'], labels: { batch } }),
    ];
    const second = await list(`label=batch:${batch}&limit=3&cursor=${first.nextCursor}`);
    const third = await list(`label=batch:${batch}&limit=3&cursor=${second.nextCursor}`);
    expect(second.items.map((s) => s.id)).toEqual(newestFirst.slice(3, 6));
    expect(third.items.map((s) => s.id)).toEqual(newestFirst.slice(6));
    expect(third.nextCursor).toBeNull();
    await Promise.all(later.map(({ id }) => fleet.terminal(id)));

    expect(
      (await list(`label=parity:even&agentId=${agentId}&runId=${runId}`)).items.map((s) => s.id),
    ).toEqual([ids[2], ids[0]]);
    expect((await list(`runId=${runId}&status=succeeded`)).items).toHaveLength(3);
    expect((await list(`runId=${runId}&status=failed`)).items).toHaveLength(0);
    const oldest = first.items.at(-1)?.createdAt as string;
    expect((await list(`label=batch:${batch}&createdBefore=${oldest}`)).items.map((s) => s.id)).toEqual(
      newestFirst.slice(3),
    );
    const justAfter = new Date(Date.parse(oldest) + 1).toISOString();
    expect((await list(`label=batch:${batch}&createdAfter=${justAfter}`)).items.map((s) => s.id)).toEqual([
      ...later.map(({ id }) => id).reverse(),
      ...newestFirst.slice(0, 2),
    ]);

    const bad = await app.inject({
      method: 'GET',
      url: '/v1/steps?status=done&limit=0&label=x',
      headers: auth(),
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json<ErrorBody>().error.issues?.map((i) => i.path)).toEqual(['status', 'label', 'limit']);
    const badCursor = await app.inject({ method: 'GET', url: '/v1/steps?cursor=abc', headers: auth() });
    expect(badCursor.statusCode).toBe(400);
    expect(badCursor.json<ErrorBody>().error.code).toBe('INVALID_CURSOR');
  });

  it('answers 404 STEP_NOT_FOUND for an unknown step', async () => {
    const id = fleet.stepId();
    for (const [method, url] of [
      ['GET', `/v1/steps/${id}`],
      ['POST', `/v1/steps/${id}/cancel`],
      ['GET', `/v1/steps/${id}/events`],
    ] as const) {
      const response = await app.inject({ method, url, headers: auth() });
      expect(response.statusCode, url).toBe(404);
      expect(response.json<ErrorBody>().error.code).toBe('STEP_NOT_FOUND');
    }
    const route = await app.inject({ method: 'GET', url: '/v2/anything', headers: auth() });
    expect(route.statusCode).toBe(404);
    expect(route.json<ErrorBody>().error.code).toBe('NOT_FOUND');
  });

  it('cancels a running step (202), which ends cancelled; a second cancel changes nothing', async () => {
    const { id } = await enqueue({ command: ['sleep', '30'] });
    await fleet.until('step running', async () => (await fleet.db.steps.get(id))?.status === 'running');
    const cancel = await app.inject({ method: 'POST', url: `/v1/steps/${id}/cancel`, headers: auth() });
    expect(cancel.statusCode).toBe(202);
    expect(cancel.json()).toEqual({ stepId: id, status: 'running', accepted: true });
    const row = await fleet.terminal(id, 20_000);
    expect(
      row,
      JSON.stringify({ error: row.error, code: row.errorCode, logs: worker.logs.slice(-5) }),
    ).toMatchObject({ status: 'cancelled' });
    const again = await app.inject({ method: 'POST', url: `/v1/steps/${id}/cancel`, headers: auth() });
    expect(again.json()).toEqual({ stepId: id, status: 'cancelled', accepted: false });
  });

  it('reports ready, and 503 NOT_READY naming PostgreSQL when it is unreachable', async () => {
    const ready = await app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.json()).toEqual({ status: 'ok', checks: { redis: 'ok', postgres: 'ok' } });
    const unreachable = createDatabase({
      connectionString: 'postgres://sandfleet:x@127.0.0.1:1/none',
      connectionTimeoutMs: 1000,
    });
    const broken = await buildTestApp(fleet, { tokens: [token], db: unreachable });
    try {
      const response = await broken.inject({ method: 'GET', url: '/readyz' });
      expect(response.statusCode).toBe(503);
      const { error } = response.json<ErrorBody>();
      expect(error.code).toBe('NOT_READY');
      expect(error.message).toContain('postgres');
      expect(error.details).toEqual({ checks: { redis: 'ok', postgres: 'unreachable' } });
      const list = await broken.inject({ method: 'GET', url: '/v1/steps', headers: auth() });
      expect(list.statusCode).toBe(503);
      expect(list.json<ErrorBody>().error).toEqual({
        code: 'DB_UNAVAILABLE',
        message: 'database unavailable; try again',
      });
    } finally {
      await broken.close();
      await unreachable.close();
    }
  });

  it('exposes queue depth, steps by status and HTTP metrics, and the worker its step metrics', async () => {
    const { id } = await enqueue({ command: ['echo', 'metrics'] });
    await fleet.terminal(id);
    const response = await app.inject({ method: 'GET', url: '/metrics', headers: auth() });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toContain('text/plain');
    const text = response.body;
    expect(text).toMatch(/^sandfleet_steps\{status="succeeded"\} [1-9]\d*$/m);
    expect(text).toMatch(/^sandfleet_queue_jobs\{state="completed"\} [1-9]\d*$/m);
    expect(text).toMatch(
      /^sandfleet_http_requests_total\{method="POST",route="\/v1\/steps",status_code="202"\} \d+$/m,
    );
    const workerText = await worker.metrics.render();
    expect(workerText).toMatch(/^sandfleet_steps_finished_total\{status="succeeded"\} [1-9]\d*$/m);
    expect(workerText).toMatch(/^sandfleet_step_duration_seconds_count\{status="succeeded"\} [1-9]\d*$/m);
    expect(workerText).toMatch(/^sandfleet_step_queue_wait_seconds_count [1-9]\d*$/m);
    expect(workerText).toMatch(/^sandfleet_container_phase_seconds_count\{phase="destroy"\} [1-9]\d*$/m);
    expect(workerText).toMatch(/^sandfleet_step_output_bytes_total [1-9]\d*$/m);
    expect(workerText).toContain(`sandfleet_active_containers{worker_id="${worker.workerId}"} 0`);
  });

  it('serves an OpenAPI 3.1 document generated from the contracts, and Swagger UI from the package', async () => {
    const response = await app.inject({ method: 'GET', url: '/docs/json', headers: auth() });
    const doc = response.json<OpenApiDocument>();
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths).sort()).toEqual([
      '/healthz',
      '/metrics',
      '/readyz',
      '/v1/agents/{agentId}/warm',
      '/v1/chats/{sessionId}/messages',
      '/v1/steps',
      '/v1/steps/batch',
      '/v1/steps/{id}',
      '/v1/steps/{id}/cancel',
      '/v1/steps/{id}/events',
    ]);
    const body = doc.paths['/v1/steps']?.post?.requestBody?.content['application/json']?.schema;
    expect(body?.properties.agentId?.pattern).toBe(AGENT_ID_PATTERN.source);
    expect(body?.required).toEqual(expect.arrayContaining(['agentId', 'command']));
    const ui = await app.inject({ method: 'GET', url: '/docs/', headers: auth() });
    expect(ui.statusCode).toBe(200);
    expect(ui.body).toContain('./static/swagger-ui-bundle.js');
    expect(ui.body).not.toMatch(/https?:\/\/(cdn|unpkg)/);
  });

  it('never writes a token to its logs', () => {
    expect(logLines.length).toBeGreaterThan(0);
    expect(logLines.join('')).not.toContain(token);
  });
});
