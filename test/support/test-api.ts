import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { type ApiDeps, buildApp, type RunningApi, startApi } from '@sandfleet/api';
import { ApiConfig, parseConfig } from '@sandfleet/config';
import { createLogger, type Logger } from '@sandfleet/logging';
import { type Browser, chromium } from 'playwright-core';
import { TEST_DATABASE_URL, TEST_REDIS_URL, type TestFleet } from './test-fleet.js';

export type TestApp = ReturnType<typeof buildApp>;
export type { RunningApi };

/** A random API token (48 hex characters). */
export const testToken = (): string => randomBytes(24).toString('hex');

/** A logger keeping its lines in `lines`, for assertions (e.g. that no token is ever logged). */
export function memoryLogger(name = 'api'): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { logger: createLogger({ name, level: 'debug', destination }), lines };
}

/** `buildApp` on a fleet's own connections (schema, queue prefix), ready for `app.inject()`. */
export async function buildTestApp(
  fleet: TestFleet,
  options: { tokens: ApiDeps['auth']['tokens']; logger?: Logger } & Partial<ApiDeps>,
): Promise<TestApp> {
  const { tokens, logger, ...overrides } = options;
  const app = buildApp({
    db: fleet.db,
    queue: fleet.queue,
    warmHints: fleet.warmHints,
    subscriber: fleet.subscriber,
    canceller: fleet.canceller,
    pingRedis: () => fleet.redis.ping(),
    logger: logger ?? memoryLogger().logger,
    auth: { tokens },
    ...overrides,
  });
  await app.ready();
  return app;
}

/** The API config of a fleet: its schema and queue prefix, on 127.0.0.1 and a free port. */
export function testApiConfig(fleet: TestFleet, env: Record<string, string> = {}): ApiConfig {
  return parseConfig(ApiConfig, {
    SANDFLEET_DATABASE_URL: TEST_DATABASE_URL,
    SANDFLEET_DATABASE_SCHEMA: fleet.schema,
    SANDFLEET_REDIS_URL: TEST_REDIS_URL,
    SANDFLEET_QUEUE_PREFIX: fleet.prefix,
    SANDFLEET_API_HOST: '127.0.0.1',
    SANDFLEET_API_PORT: '0',
    ...env,
  }) as ApiConfig;
}

/** `startApi` (real connections, listening) for a fleet. */
export function startTestApi(
  fleet: TestFleet,
  env: Record<string, string>,
  logger: Logger = memoryLogger().logger,
): Promise<RunningApi> {
  return startApi(testApiConfig(fleet, env), logger);
}

/** One Server-Sent Event as received. */
export interface SseMessage {
  id?: string;
  event?: string;
  data?: string;
}

/** Everything one SSE response carried, read until the server ended it. */
export interface SseResult {
  status: number;
  contentType: string | null;
  messages: SseMessage[];
  /** Comment lines without the leading `:` (heartbeats…). */
  comments: string[];
  /** The connection was cut before the response's end (a server closing its sockets). */
  cut: boolean;
}

/** Parses SSE blocks (separated by a blank line) into messages and comments. */
export function parseSse(text: string): Pick<SseResult, 'messages' | 'comments'> {
  const messages: SseMessage[] = [];
  const comments: string[] = [];
  for (const block of text.split('\n\n')) {
    if (block.trim() === '') continue;
    const message: SseMessage = {};
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) comments.push(line.slice(1).trim());
      else {
        const colon = line.indexOf(':');
        const field = line.slice(0, colon);
        const value = line.slice(colon + 1).replace(/^ /, '');
        if (field === 'id' || field === 'event') message[field] = value;
        else if (field === 'data')
          message.data = message.data === undefined ? value : `${message.data}\n${value}`;
      }
    }
    if (Object.keys(message).length > 0) messages.push(message);
  }
  return { messages, comments };
}

/** Reads an SSE endpoint with fetch, streaming, until the server ends the response. */
export async function readSse(
  url: string,
  options: { token: string; lastEventId?: string; timeoutMs?: number },
): Promise<SseResult> {
  const headers: Record<string, string> = {
    authorization: `Bearer ${options.token}`,
    accept: 'text/event-stream',
  };
  if (options.lastEventId !== undefined) headers['last-event-id'] = options.lastEventId;
  const response = await fetch(url, { headers, signal: AbortSignal.timeout(options.timeoutMs ?? 60_000) });
  let text = '';
  let cut = false;
  const decoder = new TextDecoder();
  try {
    if (response.body) {
      for await (const chunk of response.body) text += decoder.decode(chunk, { stream: true });
    }
  } catch (error) {
    // undici's word for a body whose connection closed before its last chunk.
    if (!(error instanceof TypeError && error.message === 'terminated')) throw error;
    cut = true;
  }
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    cut,
    ...parseSse(text),
  };
}

/** Headless Debian Chromium through playwright-core (no browser download). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
}
