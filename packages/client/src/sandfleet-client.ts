import {
  CancelResultView,
  EnqueueResultView,
  isTerminalStatus,
  type parseOrThrow,
  ReadinessView,
  StepBatchResult,
  type StepEvent,
  StepListPage,
  type StepSpecInput,
  StepView,
  WarmHintAcceptedView,
} from '@sandfleet/contracts';
import type {
  CancelResult,
  CreateStepResult,
  CreateStepsResult,
  Readiness,
  StepListFilter,
  StepPage,
  StepRecord,
  WarmAgentResult,
} from './api-types.js';
import {
  DEFAULT_EVENT_IDLE_TIMEOUT_MS,
  DEFAULT_RECONNECT,
  DEFAULT_REQUEST_TIMEOUT_MS,
  type ReconnectOptions,
  type SandfleetClientOptions,
} from './client-options.js';
import {
  ApiError,
  type ContractSchema,
  errorFromAnswer,
  isApiError,
  parseAnswer,
  unreachable,
} from './errors.js';
import { followStepEvents } from './step-event-stream.js';

/** Options every call takes. */
export interface CallOptions {
  /** Aborts the call; it then rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** Options of {@link SandfleetClient.createStep}. */
export interface CreateStepOptions extends CallOptions {
  /**
   * Retry-safe key (1–255 printable ASCII characters): a spec without `id` enqueued twice under
   * the same key is one step (`created: false` the second time).
   */
  idempotencyKey?: string;
}

/** Options of {@link SandfleetClient.warmAgent}. */
export interface WarmAgentOptions extends CallOptions {
  /** The image the agent's next step will name. @defaultValue the worker's default image */
  image?: string;
}

/** Options of {@link SandfleetClient.events}. */
export interface EventsOptions {
  /** Yield only events with a greater seq (resume where a previous reader stopped). @defaultValue 0 */
  since?: number;
  /** Ends the iteration, without an error, when aborted. */
  signal?: AbortSignal;
}

/** Options of {@link SandfleetClient.waitForFinished}. */
export interface WaitOptions extends CallOptions {
  /** Pause between reads of the step while its row is not yet terminal, ms. @defaultValue 250 */
  pollIntervalMs?: number;
}

interface RequestOptions extends CallOptions {
  query?: Record<string, string | undefined>;
  body?: unknown;
  headers?: Record<string, string>;
  stepId?: string;
}

/**
 * Client of the Sandfleet HTTP API (`/v1/steps`), on `fetch`. Every failure is an
 * {@link ApiError} carrying the API's error `code` and HTTP `status`, or `API_UNREACHABLE`
 * (retryable) when no answer came.
 *
 * ```ts
 * const client = new SandfleetClient({ baseUrl: 'http://127.0.0.1:8080', token });
 * const { id } = await client.createStep({ agentId: 'alice', command: ['echo', 'hello'] });
 * for await (const event of client.events(id)) if (event.type === 'output') process.stdout.write(event.data);
 * ```
 */
export class SandfleetClient {
  /** The base URL, always ending in `/`. */
  readonly baseUrl: string;
  readonly #token: string | undefined;
  readonly #fetch: typeof fetch;
  readonly #requestTimeoutMs: number;
  readonly #idleTimeoutMs: number;
  readonly #reconnect: Required<ReconnectOptions>;

  constructor(options: SandfleetClientOptions) {
    let base: URL;
    try {
      base = new URL(options.baseUrl);
    } catch (cause) {
      throw new ApiError('INVALID_ARGUMENT', `baseUrl must be an http:// or https:// URL`, { cause });
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:') {
      throw new ApiError('INVALID_ARGUMENT', `baseUrl must be an http:// or https:// URL`);
    }
    if (!base.pathname.endsWith('/')) base.pathname += '/';
    base.search = '';
    base.hash = '';
    this.baseUrl = base.toString();
    this.#token = options.token;
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.#requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.#idleTimeoutMs = options.eventIdleTimeoutMs ?? DEFAULT_EVENT_IDLE_TIMEOUT_MS;
    this.#reconnect = { ...DEFAULT_RECONNECT, ...options.reconnect };
  }

  /**
   * Enqueues a step (`POST /v1/steps`). The API validates the spec: a bad one fails with
   * `VALIDATION_FAILED` (status 400) whose `issues` name each field.
   */
  createStep(spec: StepSpecInput, options: CreateStepOptions = {}): Promise<CreateStepResult> {
    return this.#request(EnqueueResultView, 'POST', 'v1/steps', {
      body: spec,
      headers: options.idempotencyKey === undefined ? {} : { 'idempotency-key': options.idempotencyKey },
      signal: options.signal,
    });
  }

  /**
   * Enqueues a batch (`POST /v1/steps/batch`, at most `SANDFLEET_API_BATCH_MAX_STEPS` specs, 1000
   * by default): one result per spec, in order, `{ id, created }` or `{ error: { code, message } }`
   * naming the item and field (`steps[3].agentId: is required`). Each spec is idempotent by its
   * `id`: give ids to make a retried batch safe.
   * @throws ApiError `VALIDATION_FAILED` (400) for an empty or too large batch, `QUEUE_UNAVAILABLE`
   *   / `QUEUE_FULL` / `ENQUEUE_FAILED` (503, retryable) when the whole batch failed.
   */
  async createSteps(specs: readonly StepSpecInput[], options: CallOptions = {}): Promise<CreateStepsResult> {
    const { results } = await this.#request(StepBatchResult, 'POST', 'v1/steps/batch', {
      body: { steps: specs },
      signal: options.signal,
    });
    if (results.length !== specs.length) {
      throw new ApiError(
        'UNEXPECTED_RESPONSE',
        `POST /v1/steps/batch: ${results.length} results for ${specs.length} steps`,
        { status: 200 },
      );
    }
    return results;
  }

  /** One step with its output (`GET /v1/steps/{id}`). @throws ApiError `STEP_NOT_FOUND` (404). */
  getStep(id: string, options: CallOptions = {}): Promise<StepRecord> {
    return this.#request(StepView, 'GET', `v1/steps/${encodeURIComponent(id)}`, { ...options, stepId: id });
  }

  /** A page of steps, newest first (`GET /v1/steps`); pass `nextCursor` back as `cursor`. */
  listSteps(filter: StepListFilter = {}, options: CallOptions = {}): Promise<StepPage> {
    const label =
      typeof filter.label === 'object' ? `${filter.label.key}:${filter.label.value}` : filter.label;
    const time = (value: Date | string | undefined) => (value instanceof Date ? value.toISOString() : value);
    return this.#request(StepListPage, 'GET', 'v1/steps', {
      ...options,
      query: {
        status: filter.status,
        agentId: filter.agentId,
        runId: filter.runId,
        label,
        createdAfter: time(filter.createdAfter),
        createdBefore: time(filter.createdBefore),
        limit: filter.limit === undefined ? undefined : String(filter.limit),
        cursor: filter.cursor,
      },
    });
  }

  /**
   * Cancels a step (`POST /v1/steps/{id}/cancel`): a queued one ends `cancelled` at once, a running
   * one is stopped by its worker. @throws ApiError `STEP_NOT_FOUND` (404).
   */
  cancelStep(id: string, options: CallOptions = {}): Promise<CancelResult> {
    return this.#request(CancelResultView, 'POST', `v1/steps/${encodeURIComponent(id)}/cancel`, {
      ...options,
      stepId: id,
    });
  }

  /**
   * Asks the fleet to pre-start a container for the agent's next step (`POST
   * /v1/agents/{agentId}/warm`, answered 202): a step of the agent naming `image` (or none) and no
   * other setting then starts in it, when the worker keeps a warm pool and the image runs the
   * agent runtime. Hints for one agent within a few seconds are one.
   * @throws ApiError `VALIDATION_FAILED` (400) for a bad agent id or image, `FORBIDDEN` (403)
   *   outside the token's scope, `QUEUE_UNAVAILABLE` (503, retryable).
   */
  warmAgent(agentId: string, options: WarmAgentOptions = {}): Promise<WarmAgentResult> {
    return this.#request(WarmHintAcceptedView, 'POST', `v1/agents/${encodeURIComponent(agentId)}/warm`, {
      body: options.image === undefined ? {} : { image: options.image },
      signal: options.signal,
    });
  }

  /** Whether the API's Redis and PostgreSQL answer (`GET /readyz`). @throws ApiError `NOT_READY` (503). */
  ready(options: CallOptions = {}): Promise<Readiness> {
    return this.#request(ReadinessView, 'GET', 'readyz', options);
  }

  /**
   * A step's events (`GET /v1/steps/{id}/events`, Server-Sent Events): those retained so far, then
   * live ones, in seq order, each validated against the `StepEvent` contract; the iteration ends
   * after `finished`. A dropped connection is resumed from the last seq seen (`Last-Event-ID`)
   * with bounded, doubling pauses (`reconnect`). Breaking out of the loop closes the connection.
   * @throws ApiError `STEP_NOT_FOUND`, `UNAUTHORIZED`, `API_UNREACHABLE` (reconnections used up),
   *   `INVALID_EVENT`.
   */
  events(id: string, options: EventsOptions = {}): AsyncIterable<StepEvent> {
    return followStepEvents({
      stepId: id,
      since: options.since ?? 0,
      signal: options.signal,
      reconnect: this.#reconnect,
      idleTimeoutMs: this.#idleTimeoutMs,
      open: (lastSeq, signal) => this.#openEvents(id, lastSeq, signal),
      isTerminal: () => this.#isTerminal(id, options.signal),
      unreachable: (cause) => unreachable(this.baseUrl, cause, id),
    });
  }

  /**
   * Follows the step's events until `finished` (or, when they expired, until its row is terminal)
   * and returns the step as recorded then.
   */
  async waitForFinished(id: string, options: WaitOptions = {}): Promise<StepRecord> {
    for await (const _event of this.events(id, { signal: options.signal })) {
      // Only the end matters; the stream ends after `finished`.
    }
    for (;;) {
      options.signal?.throwIfAborted();
      const step = await this.getStep(id, { signal: options.signal });
      // The worker records the outcome and publishes `finished` one after the other.
      if (isTerminalStatus(step.status)) return step;
      await new Promise((resolve) => setTimeout(resolve, options.pollIntervalMs ?? 250));
    }
  }

  /** Whether the step has ended; a step without a row yet (a plain BullMQ job) has not. */
  async #isTerminal(id: string, signal: AbortSignal | undefined): Promise<boolean> {
    try {
      return isTerminalStatus((await this.getStep(id, { signal })).status);
    } catch (error) {
      if (isApiError(error, 'STEP_NOT_FOUND')) return false;
      throw error;
    }
  }

  #headers(extra: Record<string, string> = {}): Record<string, string> {
    return { ...(this.#token ? { authorization: `Bearer ${this.#token}` } : {}), ...extra };
  }

  #url(path: string, query: Record<string, string | undefined> = {}): URL {
    const url = new URL(path, this.baseUrl);
    for (const [name, value] of Object.entries(query))
      if (value !== undefined) url.searchParams.set(name, value);
    return url;
  }

  /** One JSON request; the answer is parsed with `schema`, its contract. */
  async #request<S extends ContractSchema>(
    schema: S,
    method: string,
    path: string,
    options: RequestOptions = {},
  ): Promise<ReturnType<typeof parseOrThrow<S>>> {
    const timeout = AbortSignal.timeout(this.#requestTimeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    const hasBody = options.body !== undefined;
    let response: Response;
    let text: string;
    try {
      response = await this.#fetch(this.#url(path, options.query), {
        method,
        headers: this.#headers({
          accept: 'application/json',
          ...(hasBody ? { 'content-type': 'application/json' } : {}),
          ...options.headers,
        }),
        body: hasBody ? JSON.stringify(options.body) : undefined,
        signal,
      });
      text = await response.text();
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason;
      throw timeout.aborted
        ? unreachable(
            this.baseUrl,
            new Error(`no answer within ${this.#requestTimeoutMs} ms`),
            options.stepId,
          )
        : unreachable(this.baseUrl, error, options.stepId);
    }
    if (!response.ok) throw errorFromAnswer(response.status, response.statusText, text, options.stepId);
    return parseAnswer(schema, text, `${method} /${path}`, {
      status: response.status,
      stepId: options.stepId,
    });
  }

  async #openEvents(id: string, lastSeq: number, signal: AbortSignal): Promise<ReadableStream<Uint8Array>> {
    let response: Response;
    try {
      response = await this.#fetch(this.#url(`v1/steps/${encodeURIComponent(id)}/events`), {
        headers: this.#headers({
          accept: 'text/event-stream',
          'cache-control': 'no-cache',
          ...(lastSeq > 0 ? { 'last-event-id': String(lastSeq) } : {}),
        }),
        signal,
      });
    } catch (error) {
      if (signal.aborted) throw error;
      throw unreachable(this.baseUrl, error, id);
    }
    if (!response.ok) {
      const text = await response.text().catch(() => '');
      throw errorFromAnswer(response.status, response.statusText, text, id);
    }
    const type = response.headers.get('content-type') ?? '';
    if (!response.body || !type.startsWith('text/event-stream')) {
      await response.body?.cancel().catch(() => undefined);
      throw new ApiError(
        'UNEXPECTED_RESPONSE',
        `events of step ${id}: expected text/event-stream, got ${type}`,
        {
          status: response.status,
          context: { stepId: id },
        },
      );
    }
    return response.body;
  }
}
