import type { Socket } from 'node:net';
import { followStep } from '@sandfleet/steps';
import type { FastifyInstance } from 'fastify';
import { type ApiDeps, DEFAULT_HEARTBEAT_MS } from '../api-deps.js';
import { commonErrors, errorSchema, stepIdParams } from '../openapi-schemas.js';
import { resumePoint } from './resume-point.js';
import { SseLimits } from './sse-limits.js';
import { SSE_HEADERS, SseStream } from './sse-stream.js';

/** Options of {@link eventsPlugin}. */
export type EventsPluginOptions = Pick<ApiDeps, 'db' | 'queue' | 'subscriber' | 'heartbeatMs' | 'sseLimits'>;

/** Longest the app's close waits for its open event streams to end. */
const CLOSE_WAIT_MS = 5000;

/**
 * `GET /v1/steps/{id}/events`: Server-Sent Events (`id: <seq>`, `event: <type>`, `data: <json>`),
 * replaying after `Last-Event-ID` (or `?since=`) then live, with heartbeat comments, ending after
 * the `finished` event. Open streams are ended when the app closes.
 */
export async function eventsPlugin(app: FastifyInstance, deps: EventsPluginOptions): Promise<void> {
  const heartbeatMs = deps.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
  const limits = new SseLimits(deps.sseLimits);
  // Each open stream: what ends it, and when its response is gone.
  const open = new Map<AbortController, Promise<void>>();
  // A request still looking up its step when closing starts is not in `open` yet: it ends at once.
  let closing = false;
  // Connections that carried a stream: once the streams ended they are ended too, flushing the
  // last chunk first (Fastify's idle sweep may run before such a socket counts as idle, and would
  // then leave it open until the force-close grace).
  const streamSockets = new Set<Socket>();
  app.addHook('preClose', async () => {
    closing = true;
    for (const controller of open.keys()) controller.abort();
    // Fastify closes idle connections right after this hook; a stream still ending would keep its
    // connection open until the keep-alive timeout.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(open.values()),
      new Promise((resolve) => {
        timer = setTimeout(resolve, CLOSE_WAIT_MS);
      }),
    ]);
    clearTimeout(timer);
    // `app.inject` requests have a stand-in socket without `end()`.
    for (const socket of streamSockets) if (typeof socket.end === 'function') socket.end();
  });

  app.get(
    '/v1/steps/:id/events',
    {
      schema: {
        summary: 'Follow a step’s events (Server-Sent Events)',
        description:
          'Replays the retained events after `Last-Event-ID` (or `since`), then streams live ones; each ' +
          'is `id: <seq>`, `event: <type>`, `data: <event JSON>`. Comments (`: heartbeat`) keep the ' +
          'connection alive. The response ends after the `finished` event.',
        tags: ['steps'],
        params: stepIdParams,
        headers: {
          type: 'object',
          properties: { 'last-event-id': { type: 'string', description: 'resume after this seq' } },
        },
        querystring: {
          type: 'object',
          properties: { since: { type: 'integer', minimum: 0, description: 'resume after this seq' } },
        },
        response: {
          200: {
            description: 'event stream',
            content: { 'text/event-stream': { schema: { type: 'string' } } },
          },
          400: errorSchema,
          404: errorSchema,
          ...commonErrors,
        },
      },
    },
    async (request, reply) => {
      const { id } = request.params as { id: string };
      const afterSeq = resumePoint(
        request.headers['last-event-id'],
        (request.query as { since?: unknown }).since,
      );
      const controller = new AbortController();
      // Refused past the caps (429) before it costs a lookup or a subscription.
      const slot = limits.take(request, reply);
      // Replay then live, with the finished grace (`@sandfleet/steps`); 404 before the stream starts.
      const events = await followStep(
        { steps: deps.db.steps, queue: deps.queue, subscriber: deps.subscriber },
        id,
        {
          afterSeq,
          signal: controller.signal,
          ...(request.principal ? { principal: request.principal } : {}),
        },
      ).catch((error: unknown) => {
        slot.release();
        throw error;
      });
      const sse = new SseStream();
      const gone = new Promise<void>((resolve) => {
        reply.raw.once('close', () => {
          slot.release();
          controller.abort();
          sse.destroy();
          open.delete(controller);
          resolve();
        });
      });
      open.set(controller, gone);
      const socket = request.raw.socket;
      streamSockets.add(socket);
      socket.once('close', () => streamSockets.delete(socket));
      if (closing) controller.abort();
      const heartbeat = setInterval(() => sse.comment('heartbeat'), heartbeatMs);
      void (async () => {
        try {
          for await (const event of events) {
            await sse.event(event.seq, event.type, JSON.stringify(event));
            if (sse.ended) break;
          }
        } catch (err) {
          request.log.warn({ err, stepId: id }, 'event stream broke off');
          sse.comment(
            `error ${(err as { code?: string }).code ?? 'INTERNAL_ERROR'}; reconnect with Last-Event-ID`,
          );
        } finally {
          clearInterval(heartbeat);
          sse.end();
        }
      })();
      sse.comment('connected');
      return reply.status(200).headers(SSE_HEADERS).send(sse.body);
    },
  );
}
