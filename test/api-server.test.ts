import type { StepEvent } from '@sandfleet/contracts';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startApi } from '../apps/api/dist/index.js';
import {
  memoryLogger,
  type RunningApi,
  readSse,
  startTestApi,
  testApiConfig,
  testToken,
} from './support/test-api.js';
import { TestFleet } from './support/test-fleet.js';

interface ErrorBody {
  error: { code: string; message: string; issues?: { path: string; message: string }[] };
}

describe('HTTP API (listening server)', () => {
  let fleet: TestFleet;
  let api: RunningApi;
  let token: string;

  beforeAll(async () => {
    fleet = await TestFleet.create();
    await fleet.startWorker();
    token = testToken();
    api = await startTestApi(fleet, { SANDFLEET_API_TOKENS: token, SANDFLEET_API_HEARTBEAT_MS: '200' });
  });

  afterEach(async () => {
    expect(await fleet.leftovers()).toEqual([]);
  });

  afterAll(async () => {
    await api?.close();
    await fleet?.close();
  });

  const post = async (spec: Record<string, unknown>) => {
    const response = await fetch(`${api.url}/v1/steps`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ agentId: fleet.agentId(), ...spec }),
    });
    expect(response.status).toBe(202);
    return ((await response.json()) as { id: string }).id;
  };
  const events = (messages: { data?: string }[]) =>
    messages.map((m) => JSON.parse(m.data as string) as StepEvent);

  it('replays events after Last-Event-ID (or ?since=) exactly: no gap, no duplicate', async () => {
    const id = await post({ command: { script: 'for i in $(seq 1 20); do echo line-$i; sleep 0.05; done' } });
    await fleet.terminal(id);
    const all = await readSse(`${api.url}/v1/steps/${id}/events`, { token });
    expect(all.status).toBe(200);
    expect(all.contentType).toMatch(/^text\/event-stream/);
    const full = events(all.messages);
    const n = full.length;
    expect(full.map((e) => e.seq)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    expect(all.messages.map((m) => m.id)).toEqual(full.map((e) => String(e.seq)));
    expect(all.messages.map((m) => m.event)).toEqual(full.map((e) => e.type));
    expect(full.at(-1)).toMatchObject({ type: 'finished', status: 'succeeded', exitCode: 0 });
    const text = full.map((e) => (e.type === 'output' ? e.data : '')).join('');
    expect(text).toBe(Array.from({ length: 20 }, (_, i) => `line-${i + 1}\n`).join(''));
    expect(n).toBeGreaterThan(5);

    for (const k of [1, Math.floor(n / 2), n - 1]) {
      const resumed = await readSse(`${api.url}/v1/steps/${id}/events`, { token, lastEventId: String(k) });
      expect(events(resumed.messages)).toEqual(full.slice(k));
      const since = await readSse(`${api.url}/v1/steps/${id}/events?since=${k}`, { token });
      expect(events(since.messages)).toEqual(full.slice(k));
    }
    const bad = await fetch(`${api.url}/v1/steps/${id}/events`, {
      headers: { authorization: `Bearer ${token}`, 'last-event-id': 'seven' },
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as ErrorBody).error.issues?.[0]?.path).toBe('Last-Event-ID');
  });

  it('follows a running step live with heartbeats and ends the response after finished', async () => {
    const id = await post({ command: { script: 'sleep 1; echo done' } });
    const started = Date.now();
    const live = await readSse(`${api.url}/v1/steps/${id}/events`, { token, timeoutMs: 30_000 });
    const received = events(live.messages);
    expect(received.map((e) => e.seq)).toEqual(Array.from({ length: received.length }, (_, i) => i + 1));
    expect(received.some((e) => e.type === 'status' && e.status === 'running')).toBe(true);
    expect(received.some((e) => e.type === 'output' && e.data === 'done\n')).toBe(true);
    expect(received.at(-1)).toMatchObject({ type: 'finished', status: 'succeeded' });
    expect(live.comments).toContain('heartbeat');
    expect(Date.now() - started).toBeLessThan(20_000);
    expect((await fleet.terminal(id)).status).toBe('succeeded');
  });

  it('stops following a step when its client goes away', async () => {
    const id = await post({ command: { script: 'echo started; sleep 30' } });
    const subscribers = async () =>
      ((await fleet.redis.call('PUBSUB', 'NUMSUB', fleet.names.events(id))) as [string, number])[1];
    const client = new AbortController();
    const response = await fetch(`${api.url}/v1/steps/${id}/events`, {
      headers: { authorization: `Bearer ${token}` },
      signal: client.signal,
    });
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    while (!text.includes('started')) text += new TextDecoder().decode((await reader.read()).value);
    expect(await subscribers()).toBe(1);
    client.abort();
    await fleet.until('the API to unsubscribe', async () => (await subscribers()) === 0, 10_000);
    await fleet.cancel(id);
    expect((await fleet.terminal(id)).status).toBe('cancelled');
  });

  it('ends open event streams when it closes', async () => {
    const other = await startTestApi(fleet, { SANDFLEET_API_TOKENS: token });
    const id = await post({ command: ['sleep', '30'] });
    const stream = readSse(`${other.url}/v1/steps/${id}/events`, { token, timeoutMs: 20_000 });
    await fleet.until('step running', async () => (await fleet.db.steps.get(id))?.status === 'running');
    const started = Date.now();
    try {
      await other.close();
      // Ended, whether the last chunk got out before the server dropped its sockets or not (on a
      // loaded machine it may not): a client reconnects either way.
      const { status, messages } = await stream;
      expect(status).toBe(200);
      expect(messages.every((m) => m.event !== 'finished')).toBe(true);
      // Usually at once; at most after the force-close grace (CLOSE_GRACE_MS, 5 s): a stream that
      // starts just as the server closes can still miss the first sweep (a known race).
      expect(Date.now() - started).toBeLessThan(7000);
    } finally {
      await fleet.cancel(id);
      expect((await fleet.terminal(id)).status).toBe('cancelled');
      await fleet.until('its container to be removed', async () => (await fleet.leftovers()).length === 0);
    }
  });

  it('refuses to start without a token unless no-auth is allowed on a loopback host', async () => {
    const { logger } = memoryLogger();
    await expect(startApi(testApiConfig(fleet), logger)).rejects.toMatchObject({
      code: 'INVALID_CONFIG',
      problems: [expect.stringMatching(/^SANDFLEET_API_TOKENS: must list at least one token/)],
    });
    const wildcard = testApiConfig(fleet, {
      SANDFLEET_API_ALLOW_NO_AUTH: 'true',
      SANDFLEET_API_HOST: '0.0.0.0',
    });
    await expect(startApi(wildcard, logger)).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
    const open = await startApi(testApiConfig(fleet, { SANDFLEET_API_ALLOW_NO_AUTH: 'true' }), logger);
    try {
      expect((await fetch(`${open.url}/v1/steps?limit=1`)).status).toBe(200);
    } finally {
      await Promise.all([open.close(), open.close()]);
    }
  });
});
