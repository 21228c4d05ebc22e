import { parseOrThrow, WARM_HINT_JOB_NAME, WarmHint } from '@sandfleet/contracts';
import { type Job, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { type QueueLocation, resolveWarmHintQueueLocation } from './queue-names.js';
import { createRedisConnection } from './redis-connection.js';

/** @defaultValue of {@link WarmHintWorkerOptions.concurrency}. */
export const DEFAULT_WARM_HINT_CONCURRENCY = 2;

/**
 * @defaultValue of {@link WarmHintWorkerOptions.staleAfterMs}: a warm pool's default idle time
 * (`SANDFLEET_WARM_POOL_IDLE_MS`); a container warmed later would be for a step long gone.
 */
export const DEFAULT_WARM_HINT_STALE_MS = 60_000;

/** Acts on one parsed hint; a rejection fails the hint's job (it is not tried again). */
export type WarmHintHandler = (hint: WarmHint) => Promise<void>;

export interface WarmHintWorkerOptions extends QueueLocation {
  redisUrl: string;
  workerId: string;
  handler: WarmHintHandler;
  /** Hints handled at once. @defaultValue {@link DEFAULT_WARM_HINT_CONCURRENCY} */
  concurrency?: number;
  /**
   * A hint queued longer ago than this (no worker took it in time) completes without reaching
   * the handler, ms. @defaultValue {@link DEFAULT_WARM_HINT_STALE_MS}
   */
  staleAfterMs?: number;
  /** A hint was skipped for being stale (its age in ms). Must not throw. */
  onStale?(hint: WarmHint, ageMs: number): void;
  /**
   * A hint's job failed: its data is not a `WarmHint` (`ValidationError`, the handler is not
   * called), its name is not `warm-hint`, or the handler threw (that error). Must not throw.
   */
  onFailed?(error: Error, data: unknown): void;
  /** Connection errors BullMQ reports in the background. */
  onError?(error: Error): void;
}

/**
 * The consumer side of a fleet's warm-hints queue: pulls `warm-hint` jobs, parses each as a
 * `WarmHint` and calls the handler with it. A failed hint is not retried: the next hint, or the
 * agent's next step, does what it would have done.
 */
export class WarmHintWorker {
  readonly #worker: Worker;
  readonly #redis: Redis;
  #closed?: Promise<void>;

  constructor(options: WarmHintWorkerOptions) {
    const { prefix, name } = resolveWarmHintQueueLocation(options);
    this.#redis = createRedisConnection({
      url: options.redisUrl,
      role: 'worker',
      name: `sandfleet-warm-hints-${options.workerId}`,
    });
    const staleAfterMs = options.staleAfterMs ?? DEFAULT_WARM_HINT_STALE_MS;
    this.#worker = new Worker(name, (job) => this.#handle(options, staleAfterMs, job), {
      connection: this.#redis,
      prefix,
      name: options.workerId,
      concurrency: options.concurrency ?? DEFAULT_WARM_HINT_CONCURRENCY,
      autorun: false,
    });
    this.#worker.on('error', options.onError ?? (() => {}));
    const { onFailed } = options;
    if (onFailed) this.#worker.on('failed', (job, error) => onFailed(error, job?.data));
  }

  /** Starts pulling hints; resolves once the worker is connected. */
  async start(): Promise<void> {
    void this.#worker.run().catch((error: Error) => this.#worker.emit('error', error));
    await this.#worker.waitUntilReady();
  }

  async #handle(
    options: Pick<WarmHintWorkerOptions, 'handler' | 'onStale'>,
    staleAfterMs: number,
    job: Job,
  ): Promise<void> {
    if (job.name !== WARM_HINT_JOB_NAME)
      throw new UnrecoverableError(`unexpected job name ${job.name}; expected ${WARM_HINT_JOB_NAME}`);
    const hint = parseOrThrow(WarmHint, job.data, 'warm hint', { jobId: job.id ?? null });
    const ageMs = Date.now() - job.timestamp;
    if (ageMs > staleAfterMs) options.onStale?.(hint, ageMs);
    else await options.handler(hint);
  }

  /** Waits for the hints being handled, then disconnects. Idempotent. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      await this.#worker.close();
      this.#redis.disconnect();
    })();
    return this.#closed;
  }
}
