import {
  type EgressEvent,
  type OutputStream,
  parseOrThrow,
  StepEvent,
  type StepEventBody,
} from '@sandfleet/contracts';
import type { Redis } from 'ioredis';
import { StreamError } from './errors.js';
import { openFence, writeFenced } from './event-fence.js';
import { type CapturedText, OutputCapture } from './output-capture.js';
import { Redactor } from './redactor.js';
import {
  type FinishedBody,
  resolvePublisherOptions,
  type StatusBody,
  type StepEventPublisherConfig,
  type StepEventPublisherOptions,
} from './step-event-publisher-options.js';

/** An event stamped with its seq and serialized, waiting to be written. */
interface PendingEvent {
  seq: number;
  json: string;
  finished: boolean;
}

/** Output text being coalesced into one `output` event. */
interface OutputBuffer {
  stream: OutputStream;
  parts: string[];
  bytes: number;
  ts: string;
}

/**
 * Publishes the events of one step attempt to its fleet's `<prefix>:events:{stepId}`: each event is
 * appended to the capped replay stream and published on the pub/sub channel, in one pipeline
 * per batch, strictly in seq order (one batch in flight at a time).
 *
 * Output is decoded, redacted, capped at `outputLimitBytes` and coalesced: an `output` event is
 * cut when `flushBytes` are buffered, when the output switches between stdout and stderr, or
 * `flushIntervalMs` after its first byte. Memory stays bounded: `output()` waits while a batch
 * is in flight and another full one is ready. Not safe for two publishers of one step at once.
 */
export class StepEventPublisher {
  /** The step whose events this publishes. */
  readonly stepId: string;
  readonly #redis: Redis;
  readonly #config: StepEventPublisherConfig;
  readonly #redactor: Redactor;
  readonly #capture: OutputCapture;
  #lastSeq: number;
  #writtenSeq: number;
  #buffer: OutputBuffer | undefined;
  #timer: NodeJS.Timeout | undefined;
  #pending: PendingEvent[] = [];
  #pendingBytes = 0;
  #writer: Promise<void> | undefined;
  #inFlight: Promise<void> = Promise.resolve();
  #failure: StreamError | undefined;
  #closed: Promise<void> | undefined;

  private constructor(config: StepEventPublisherConfig, lastSeq: number) {
    this.stepId = config.stepId;
    this.#redis = config.redis;
    this.#config = config;
    this.#redactor = new Redactor(config.secrets);
    this.#capture = new OutputCapture({ redactor: this.#redactor, limitBytes: config.outputLimitBytes });
    this.#lastSeq = lastSeq;
    this.#writtenSeq = lastSeq;
  }

  /**
   * Opens a publisher for one attempt of a step (`attempt`), or for a step no attempt owns
   * (cancel, queue failures). Numbering continues after the last seq already in the step's
   * stream, so a retried attempt keeps seq gap-free. An attempt claims the step's events: older
   * attempts can publish nothing from then on, and nobody can after `finished`.
   * @throws StreamError `STREAM_OPTIONS_INVALID`, `STREAM_ATTEMPT_FENCED`, `STREAM_WRITE_FAILED`,
   * `STREAM_EVENT_INVALID`.
   */
  static async open(options: StepEventPublisherOptions): Promise<StepEventPublisher> {
    const config = resolvePublisherOptions(options);
    let last: string | undefined;
    try {
      last = await openFence(config.redis, config.names, config.stepId, config.attempt);
    } catch (cause) {
      if (cause instanceof StreamError) throw cause;
      throw new StreamError('STREAM_WRITE_FAILED', `opening events of step ${config.stepId} failed`, {
        cause,
        context: { stepId: config.stepId },
      });
    }
    return new StepEventPublisher(config, last === undefined ? 0 : lastSeqOf(config.stepId, last));
  }

  /** `text` with this step's secret values, in every form the output is redacted in, replaced by `***`. */
  redact(text: string): string {
    return this.#redactor.redact(text);
  }

  /** A copy of a JSON-like value (a runtime result) with every string in it redacted like {@link redact}. */
  redactValue<T>(value: T): T {
    return this.#redactor.redactValue(value);
  }

  /** The redacted output text as published, stdout and stderr interleaved, at most `outputLimitBytes`. */
  get capturedOutput(): string {
    return this.#capture.captured;
  }

  /** Total bytes the step printed, including bytes dropped beyond the limit. */
  get outputBytes(): number {
    return this.#capture.rawBytes;
  }

  /** Whether output was dropped because of `outputLimitBytes` (the `truncated` event was queued). */
  get truncated(): boolean {
    return this.#capture.truncated;
  }

  /** The highest seq stamped so far; once `flush()` resolves, every event up to it is in Redis. */
  get lastSeq(): number {
    return this.#lastSeq;
  }

  /** Publishes a `status` event and resolves once it is written. */
  async status(body: StatusBody): Promise<void> {
    await this.#publish({ type: 'status', ...body });
  }

  /** Publishes a `runtime` event (typed event of the in-container runtime) and resolves once written. */
  async runtime(name: string, data?: unknown): Promise<void> {
    await this.#publish({ type: 'runtime', name, data });
  }

  /** Publishes an `egress` event (a request through the egress proxy) and resolves once written. */
  async egress(body: Omit<EgressEvent, 'stepId' | 'seq' | 'ts' | 'type'>): Promise<void> {
    await this.#publish({ type: 'egress', ...body });
  }

  /**
   * Takes a chunk the step printed. Resolves when the caller may send more: awaiting every call
   * bounds memory to about `maxPendingBytes` plus the batch being written (and one `flushBytes`
   * buffer) whatever the step prints.
   * @throws StreamError `STREAM_WRITE_FAILED` once a write failed; `STREAM_PUBLISHER_CLOSED`.
   */
  async output(stream: OutputStream, chunk: Uint8Array): Promise<void> {
    this.#assertOpen();
    this.#append(this.#capture.write(stream, chunk));
    while (this.#pendingBytes >= this.#config.maxPendingBytes && this.#writer && !this.#failure) {
      await this.#inFlight;
    }
    if (this.#failure) throw this.#failure;
  }

  /**
   * Publishes everything still buffered (including output held back for redaction and a
   * trailing partial character), then the `finished` event, then sets the stream's TTL.
   * Resolves once all of it is written. The publisher is closed afterwards.
   */
  async finished(body: FinishedBody): Promise<void> {
    this.#assertOpen();
    const checked = this.#check({ type: 'finished', ...body });
    this.#endOutput();
    const written = this.#waitWritten(this.#enqueue(checked));
    this.#closed = written.then(
      () => undefined,
      () => undefined,
    );
    await written;
  }

  /**
   * Writes every buffered `output` event now. Output held back for redaction (a possible start
   * of a secret) stays held back. Idempotent.
   * @throws StreamError `STREAM_WRITE_FAILED`.
   */
  async flush(): Promise<void> {
    this.#closeBuffer();
    await this.#waitWritten(this.#lastSeq);
  }

  /**
   * Writes what is buffered (without a `finished` event) and stops accepting calls. Idempotent;
   * never rejects: write failures are reported by `output()`, `flush()` and `finished()`.
   * Does not close the Redis connection.
   */
  close(): Promise<void> {
    if (!this.#closed) {
      this.#endOutput();
      this.#closed = this.#waitWritten(this.#lastSeq).catch(() => undefined);
    }
    return this.#closed;
  }

  #assertOpen(): void {
    if (this.#failure) throw this.#failure;
    if (this.#closed) {
      throw new StreamError('STREAM_PUBLISHER_CLOSED', `publisher of step ${this.stepId} is closed`, {
        context: { stepId: this.stepId },
      });
    }
  }

  /** Publishes a non-output event after the output buffered so far; resolves once written. */
  async #publish(body: StepEventBody): Promise<void> {
    this.#assertOpen();
    const checked = this.#check(body);
    this.#closeBuffer();
    await this.#waitWritten(this.#enqueue(checked));
  }

  /** Redacts a non-output body and checks it against the contract schema. */
  #check(body: StepEventBody): StepEventBody {
    const redacted = this.#redactor.redactValue(body);
    parseOrThrow(StepEvent, { stepId: this.stepId, seq: 1, ts: '', ...redacted }, 'step event', {
      stepId: this.stepId,
    });
    return redacted;
  }

  #append(captured: readonly CapturedText[]): void {
    for (const { stream, text, bytes, hitLimit } of captured) this.#appendText(stream, text, bytes, hitLimit);
  }

  #appendText(stream: OutputStream, text: string, bytes: number, hitLimit: boolean): void {
    if (text.length > 0) {
      if (this.#buffer && this.#buffer.stream !== stream) this.#closeBuffer();
      if (!this.#buffer) {
        this.#buffer = { stream, parts: [], bytes: 0, ts: new Date().toISOString() };
        this.#timer = setTimeout(() => this.#closeBuffer(), this.#config.flushIntervalMs);
      }
      this.#buffer.parts.push(text);
      this.#buffer.bytes += bytes;
      if (this.#buffer.bytes >= this.#config.flushBytes) this.#closeBuffer();
    }
    if (hitLimit) {
      this.#closeBuffer();
      this.#enqueue({ type: 'truncated', limitBytes: this.#config.outputLimitBytes });
    }
  }

  /** Releases held-back output of both streams and cuts the buffer (before finishing or closing). */
  #endOutput(): void {
    this.#append(this.#capture.end());
    this.#closeBuffer();
  }

  /** Turns the coalesced output into an `output` event and starts writing it. */
  #closeBuffer(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const buffer = this.#buffer;
    if (!buffer) return;
    this.#buffer = undefined;
    this.#enqueue({ type: 'output', stream: buffer.stream, data: buffer.parts.join('') }, buffer.ts);
  }

  /** Stamps seq and ts, queues the event for writing and starts the writer. Returns the seq. */
  #enqueue(body: StepEventBody, ts = new Date().toISOString()): number {
    const seq = ++this.#lastSeq;
    const json = JSON.stringify({ stepId: this.stepId, seq, ts, ...body });
    this.#pending.push({ seq, json, finished: body.type === 'finished' });
    this.#pendingBytes += json.length;
    this.#kick();
    return seq;
  }

  #kick(): void {
    if (this.#writer || this.#failure || this.#pending.length === 0) return;
    this.#writer = this.#write().finally(() => {
      this.#writer = undefined;
      this.#kick();
    });
  }

  /** The only writer: takes everything pending as one batch, one batch at a time. */
  async #write(): Promise<void> {
    while (this.#pending.length > 0 && !this.#failure) {
      const batch = this.#pending;
      this.#pending = [];
      this.#pendingBytes = 0;
      this.#inFlight = this.#writeBatch(batch);
      await this.#inFlight;
    }
  }

  /** Writes one batch with one pipeline; never rejects (records the failure instead). */
  async #writeBatch(batch: PendingEvent[]): Promise<void> {
    try {
      // Encoded once for both commands: UTF-8 encoding is a visible share of the CPU per MB.
      const events = batch.map((event) => ({ payload: Buffer.from(event.json), finished: event.finished }));
      await writeFenced(
        this.#redis,
        this.#config.names,
        this.stepId,
        this.#config.attempt,
        events,
        this.#config,
      );
      this.#writtenSeq = batch.at(-1)?.seq ?? this.#writtenSeq;
    } catch (cause) {
      this.#failure ??=
        cause instanceof StreamError
          ? cause
          : new StreamError('STREAM_WRITE_FAILED', `writing events of step ${this.stepId} failed`, {
              cause,
              context: { stepId: this.stepId, fromSeq: batch[0]?.seq },
            });
      this.#pending = [];
      this.#pendingBytes = 0;
    }
  }

  /** Resolves once every event up to `seq` is written; rejects once a write failed. */
  async #waitWritten(seq: number): Promise<void> {
    while (this.#writtenSeq < seq) {
      if (this.#failure) throw this.#failure;
      this.#kick();
      if (!this.#writer) {
        throw new StreamError('STREAM_WRITE_FAILED', `events of step ${this.stepId} up to ${seq} were lost`, {
          context: { stepId: this.stepId },
        });
      }
      await this.#inFlight;
    }
  }
}

/** The seq of the newest event's JSON in the stream. */
function lastSeqOf(stepId: string, json: string): number {
  try {
    return parseOrThrow(StepEvent, JSON.parse(json), 'step event', { stepId }).seq;
  } catch (cause) {
    throw new StreamError('STREAM_EVENT_INVALID', `the last event of step ${stepId} is not a valid event`, {
      cause,
      context: { stepId },
    });
  }
}
