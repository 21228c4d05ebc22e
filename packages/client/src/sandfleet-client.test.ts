import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { StepEvent } from '@sandfleet/contracts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SandfleetClient } from './sandfleet-client.js';

type Handler = (request: IncomingMessage, response: ServerResponse, attempt: number) => void;

/** A tiny HTTP server on 127.0.0.1 playing the API; counts and records requests per path. */
class FakeApi {
  readonly server: Server;
  readonly requests: IncomingMessage[] = [];
  #routes = new Map<string, Handler>();
  #attempts = new Map<string, number>();

  constructor() {
    this.server = createServer((request, response) => {
      this.requests.push(request);
      const path = (request.url ?? '').split('?')[0] ?? '';
      const attempt = (this.#attempts.get(path) ?? 0) + 1;
      this.#attempts.set(path, attempt);
      const handler = this.#routes.get(path);
      if (handler) handler(request, response, attempt);
      else json(response, 404, { error: { code: 'NOT_FOUND', message: `no route ${path}` } });
    });
  }

  on(path: string, handler: Handler): this {
    this.#routes.set(path, handler);
    return this;
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  lastEventIds(path: string): (string | undefined)[] {
    return this.requests
      .filter((r) => r.url?.startsWith(path))
      .map((r) => r.headers['last-event-id'] as string | undefined);
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

const TS = '2025-01-01T00:00:00.000Z';
const output = (seq: number, data: string): StepEvent => ({
  stepId: 's1',
  seq,
  ts: TS,
  type: 'output',
  stream: 'stdout',
  data,
});
const finished = (seq: number): StepEvent => ({
  stepId: 's1',
  seq,
  ts: TS,
  type: 'finished',
  status: 'succeeded',
  exitCode: 0,
});
const sse = (event: StepEvent) =>
  `id: ${event.seq}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
const openStream = (response: ServerResponse) =>
  response.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' });

const EVENTS = '/v1/steps/s1/events';

/** Step `s1` as the API serves it. */
const stepRow = (extra: Record<string, unknown> = {}) => ({
  id: 's1',
  agentId: 'alice',
  kind: 'task',
  status: 'succeeded',
  image: null,
  imageId: null,
  command: ['true'],
  runId: null,
  taskId: null,
  chatSessionId: null,
  labels: {},
  priority: null,
  attempts: 1,
  maxAttempts: 3,
  workerId: 'w1',
  exitCode: 0,
  oomKilled: false,
  outputBytes: 0,
  outputTruncated: false,
  error: null,
  errorCode: null,
  cancelRequestedAt: null,
  createdAt: TS,
  startedAt: TS,
  finishedAt: TS,
  durationMs: 5,
  updatedAt: TS,
  producer: null,
  output: '',
  spec: { agentId: 'alice', command: ['true'] },
  result: null,
  ...extra,
});

describe('SandfleetClient against a local HTTP server', () => {
  let api: FakeApi;
  let baseUrl: string;
  let client: SandfleetClient;

  beforeEach(async () => {
    api = new FakeApi();
    baseUrl = await api.listen();
    client = new SandfleetClient({
      baseUrl,
      token: 'test-token-0123456789',
      reconnect: { attempts: 3, initialDelayMs: 10, maxDelayMs: 40 },
    });
  });

  afterEach(async () => {
    await api.close();
  });

  async function events(options: { since?: number; signal?: AbortSignal } = {}, c = client) {
    const seen: StepEvent[] = [];
    for await (const event of c.events('s1', options)) seen.push(event);
    return seen;
  }

  it('resumes a dropped stream with Last-Event-ID and yields every event once, in order', async () => {
    api.on(EVENTS, (request, response, attempt) => {
      openStream(response);
      if (attempt === 1) {
        // Two whole events and half of a third, then the connection dies.
        response.write(`: connected\n\n${sse(output(1, 'a'))}${sse(output(2, 'b'))}id: 3\nevent: out`);
        setTimeout(() => response.socket?.destroy(), 20);
        return;
      }
      const after = Number(request.headers['last-event-id'] ?? 0);
      // A server may overlap what it already sent: the client drops seqs it has seen.
      for (const event of [output(2, 'b'), output(3, 'c'), finished(4)]) {
        if (event.seq > after - 1) response.write(sse(event));
      }
      response.end();
    });
    const seen = await events();
    expect(seen.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(seen.at(-1)?.type).toBe('finished');
    expect(api.lastEventIds(EVENTS)).toEqual([undefined, '2']);
    expect(api.requests[0]?.headers.authorization).toBe('Bearer test-token-0123456789');
  });

  it('starts after `since` and ends after finished even though the server keeps the stream open', async () => {
    api.on(EVENTS, (_request, response) => {
      openStream(response);
      response.write(`${sse(output(6, 'x'))}${sse(finished(7))}: still here\n\n`);
    });
    const seen = await events({ since: 5 });
    expect(seen.map((e) => e.seq)).toEqual([6, 7]);
    expect(api.lastEventIds(EVENTS)).toEqual(['5']);
  });

  it('retries a 503 answer, then follows the stream', async () => {
    api.on(EVENTS, (_request, response, attempt) => {
      if (attempt === 1) {
        json(response, 503, { error: { code: 'STREAM_READ_FAILED', message: 'redis down' } });
        return;
      }
      openStream(response);
      response.end(sse(finished(1)));
    });
    expect((await events()).map((e) => e.type)).toEqual(['finished']);
  });

  it('fails at once with the API’s code and status for a refusal, without retrying', async () => {
    api.on(EVENTS, (_request, response) =>
      json(response, 404, { error: { code: 'STEP_NOT_FOUND', message: 'no step with id s1' } }),
    );
    await expect(events()).rejects.toMatchObject({ code: 'STEP_NOT_FOUND', status: 404, retryable: false });
    expect(api.lastEventIds(EVENTS)).toHaveLength(1);
  });

  it('gives up with API_UNREACHABLE after the bounded reconnections of a stream that keeps dropping', async () => {
    api.on(EVENTS, (_request, response) => {
      openStream(response);
      response.write(': connected\n\n');
      setTimeout(() => response.socket?.destroy(), 5);
    });
    await expect(events()).rejects.toMatchObject({ code: 'API_UNREACHABLE', retryable: true });
    // The first connection and 3 reconnections.
    expect(api.lastEventIds(EVENTS)).toHaveLength(4);
  });

  it('ends without finished when the stream ends and the step is already terminal (events expired)', async () => {
    api
      .on(EVENTS, (_request, response) => {
        openStream(response);
        response.end(': connected\n\n');
      })
      .on('/v1/steps/s1', (_request, response) => json(response, 200, stepRow()));
    expect(await events()).toEqual([]);
    expect(api.lastEventIds(EVENTS)).toHaveLength(1);
  });

  it('reconnects when the stream goes silent past the idle timeout', async () => {
    api.on(EVENTS, (_request, response, attempt) => {
      openStream(response);
      if (attempt === 1)
        response.write(sse(output(1, 'a'))); // then nothing, not even a heartbeat
      else response.end(sse(finished(2)));
    });
    const quick = new SandfleetClient({
      baseUrl,
      eventIdleTimeoutMs: 150,
      reconnect: { initialDelayMs: 10 },
    });
    expect((await events({}, quick)).map((e) => e.seq)).toEqual([1, 2]);
    expect(api.lastEventIds(EVENTS)).toEqual([undefined, '1']);
  });

  it('ends quietly when its signal aborts', async () => {
    api.on(EVENTS, (_request, response) => {
      openStream(response);
      response.write(sse(output(1, 'a')));
    });
    const controller = new AbortController();
    const seen: StepEvent[] = [];
    for await (const event of client.events('s1', { signal: controller.signal })) {
      seen.push(event);
      controller.abort();
    }
    expect(seen.map((e) => e.seq)).toEqual([1]);
  });

  it('fails with INVALID_EVENT when an event breaks the contract', async () => {
    api.on(EVENTS, (_request, response) => {
      openStream(response);
      response.end('id: 1\nevent: output\ndata: {"stepId":"s1","seq":1,"ts":"x","type":"output"}\n\n');
    });
    await expect(events()).rejects.toMatchObject({ code: 'INVALID_EVENT' });
  });

  it('turns error answers into ApiError with code, status and issues', async () => {
    api.on('/v1/steps', (_request, response) =>
      json(response, 400, {
        error: {
          code: 'VALIDATION_FAILED',
          message: 'invalid step spec: agentId: is required',
          issues: [{ path: 'agentId', message: 'is required' }],
        },
      }),
    );
    await expect(client.createStep({ command: ['true'] } as never)).rejects.toMatchObject({
      name: 'ApiError',
      code: 'VALIDATION_FAILED',
      status: 400,
      retryable: false,
      issues: [{ path: 'agentId', message: 'is required' }],
    });
  });

  it('calls an answer that is not the API’s UNEXPECTED_RESPONSE', async () => {
    api.on('/v1/steps/s1', (_request, response) =>
      response.writeHead(502, { 'content-type': 'text/html' }).end('<h1>Bad Gateway</h1>'),
    );
    await expect(client.getStep('s1')).rejects.toMatchObject({
      code: 'UNEXPECTED_RESPONSE',
      status: 502,
      retryable: true,
    });
  });

  it('parses a step with its contract schema', async () => {
    api.on('/v1/steps/s1', (_request, response) => json(response, 200, stepRow()));
    expect(await client.getStep('s1')).toEqual(stepRow());
  });

  it('calls a 2xx answer that breaks its contract UNEXPECTED_RESPONSE, naming each bad field', async () => {
    const { createdAt: _createdAt, ...noCreatedAt } = stepRow({ exitCode: 'zero' });
    api
      .on('/v1/steps/s1', (_request, response) => json(response, 200, noCreatedAt))
      .on('/v1/steps/s1/cancel', (_request, response) => response.writeHead(202).end('accepted'));
    const failure = await client.getStep('s1').catch((error: unknown) => error);
    expect(failure).toMatchObject({
      name: 'ApiError',
      code: 'UNEXPECTED_RESPONSE',
      status: 200,
      retryable: false,
      context: { stepId: 's1' },
      issues: [
        { path: 'exitCode', message: expect.any(String) },
        { path: 'createdAt', message: 'is required' },
      ],
    });
    expect((failure as Error).message).toContain('GET /v1/steps/s1 breaks the API contract');
    await expect(client.cancelStep('s1')).rejects.toMatchObject({ code: 'UNEXPECTED_RESPONSE', status: 202 });
  });

  it('posts a batch as { steps } and parses its results with their contract; a result per spec or UNEXPECTED_RESPONSE', async () => {
    const results = [
      { id: 'a', created: true },
      { error: { code: 'FORBIDDEN', message: 'steps[1].agentId: not allowed for token t' } },
    ];
    let body = '';
    api.on('/v1/steps/batch', (request, response) => {
      request.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      request.on('end', () => json(response, 200, { results }));
    });
    const specs = [
      { id: 'a', agentId: 'x', command: ['true'] },
      { id: 'b', agentId: 'y', command: ['true'] },
    ];
    expect(await client.createSteps(specs)).toEqual(results);
    expect(JSON.parse(body)).toEqual({ steps: specs });
    await expect(client.createSteps([...specs, specs[0] as (typeof specs)[0]])).rejects.toMatchObject({
      code: 'UNEXPECTED_RESPONSE',
      message: 'POST /v1/steps/batch: 2 results for 3 steps',
    });
    api.on('/v1/steps/batch', (_request, response) => json(response, 200, { results: [{ id: 'a' }] }));
    await expect(client.createSteps([specs[0] as (typeof specs)[0]])).rejects.toMatchObject({
      code: 'UNEXPECTED_RESPONSE',
    });
  });

  it('posts a warm hint to the agent’s path, with the image when given, and parses the answer with its contract', async () => {
    const bodies: unknown[] = [];
    api.on('/v1/agents/alice/warm', (request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      request.on('end', () => {
        bodies.push(JSON.parse(body));
        json(response, 202, { agentId: 'alice', accepted: true });
      });
    });
    expect(await client.warmAgent('alice')).toEqual({ agentId: 'alice', accepted: true });
    expect(await client.warmAgent('alice', { image: 'sandfleet/agent-runtime:1' })).toEqual({
      agentId: 'alice',
      accepted: true,
    });
    expect(bodies).toEqual([{}, { image: 'sandfleet/agent-runtime:1' }]);
    expect(api.requests.map((request) => [request.method, request.headers.authorization])).toEqual([
      ['POST', 'Bearer test-token-0123456789'],
      ['POST', 'Bearer test-token-0123456789'],
    ]);
    api.on('/v1/agents/alice/warm', (_request, response) => json(response, 202, { agentId: 'alice' }));
    await expect(client.warmAgent('alice')).rejects.toMatchObject({
      code: 'UNEXPECTED_RESPONSE',
      status: 202,
    });
    api.on('/v1/agents/Bad/warm', (_request, response) =>
      json(response, 400, {
        error: {
          code: 'VALIDATION_FAILED',
          message: 'invalid warm hint: agentId: must match …',
          issues: [{ path: 'agentId', message: 'must match …' }],
        },
      }),
    );
    await expect(client.warmAgent('Bad')).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      status: 400,
      issues: [{ path: 'agentId', message: 'must match …' }],
    });
  });

  it('calls an error answer without the API’s error shape UNEXPECTED_RESPONSE', async () => {
    api.on('/v1/steps/s1', (_request, response) =>
      json(response, 404, { error: { code: 42, message: 'x' } }),
    );
    await expect(client.getStep('s1')).rejects.toMatchObject({ code: 'UNEXPECTED_RESPONSE', status: 404 });
  });

  it('sends filters as query parameters and keeps a base path', async () => {
    api.on('/prefix/v1/steps', (_request, response) => json(response, 200, { items: [], nextCursor: null }));
    const prefixed = new SandfleetClient({ baseUrl: `${baseUrl}/prefix` });
    await prefixed.listSteps({
      status: 'running',
      label: { key: 'team', value: 'a:b' },
      createdAfter: new Date(TS),
      limit: 2,
    });
    const url = new URL(api.requests[0]?.url ?? '', baseUrl);
    expect(Object.fromEntries(url.searchParams)).toEqual({
      status: 'running',
      label: 'team:a:b',
      createdAfter: TS,
      limit: '2',
    });
  });

  it('fails with API_UNREACHABLE (retryable) when nothing listens, and after the request timeout', async () => {
    await api.close();
    await expect(client.getStep('s1')).rejects.toMatchObject({ code: 'API_UNREACHABLE', retryable: true });
    const silent = new FakeApi().on('/v1/steps/s1', () => undefined);
    try {
      const url = await silent.listen();
      const impatient = new SandfleetClient({ baseUrl: url, requestTimeoutMs: 100 });
      await expect(impatient.getStep('s1')).rejects.toMatchObject({
        code: 'API_UNREACHABLE',
        message: expect.stringContaining('no answer within 100 ms'),
      });
    } finally {
      await silent.close();
    }
    api = new FakeApi();
    await api.listen();
  });
});
