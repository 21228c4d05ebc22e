import { parseOrThrow, WARM_HINT_JOB_NAME, WarmHint } from '@sandfleet/contracts';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { QueueError } from './errors.js';
import { type QueueLocation, resolveWarmHintQueueLocation } from './queue-names.js';
import { assertReachable, createRedisConnection } from './redis-connection.js';

/** @defaultValue of {@link WarmHintQueueOptions.dedupeMs}. */
export const DEFAULT_WARM_HINT_DEDUPE_MS = 5000;

/** Finished hints kept for Bull Board, then trimmed: a hint is worth little once it is done. */
const KEEP_FINISHED = { age: 3600, count: 1000 };

export interface WarmHintQueueOptions extends QueueLocation {
  redisUrl: string;
  /**
   * Hints for one agent added within this long of one that made a job make no job of their own
   * (BullMQ deduplication by agent id), ms: a burst of hints warms once. @defaultValue {@link DEFAULT_WARM_HINT_DEDUPE_MS}
   */
  dedupeMs?: number;
  /** Connection errors BullMQ reports in the background. @defaultValue ignore them */
  onError?(error: Error): void;
}

/**
 * Producer side of a fleet's warm-hints queue (`<steps queue>-warm-hints`, the steps queue's
 * prefix): one job `warm-hint` per agent per {@link WarmHintQueueOptions.dedupeMs}, tried once.
 */
export class WarmHintQueue {
  readonly queue: Queue;
  readonly #redis: Redis;
  readonly #dedupeMs: number;
  #closed?: Promise<void>;

  constructor(options: WarmHintQueueOptions) {
    const { prefix, name } = resolveWarmHintQueueLocation(options);
    this.#redis = createRedisConnection({
      url: options.redisUrl,
      role: 'producer',
      name: 'sandfleet-warm-hints-producer',
    });
    this.queue = new Queue(name, { connection: this.#redis, prefix });
    this.queue.on('error', options.onError ?? (() => {}));
    this.#dedupeMs = options.dedupeMs ?? DEFAULT_WARM_HINT_DEDUPE_MS;
  }

  /**
   * Validates `hint` and queues it, unless a hint for its agent made a job within `dedupeMs`.
   * @throws ValidationError `VALIDATION_FAILED` naming every bad field; nothing is written then.
   * @throws QueueError `QUEUE_UNAVAILABLE` (retryable) while Redis is unreachable, `ENQUEUE_FAILED`
   *   (retryable) when the add failed.
   */
  async add(hint: WarmHint): Promise<void> {
    const data = parseOrThrow(WarmHint, hint, 'warm hint');
    const context = { agentId: data.agentId };
    await assertReachable(
      this.#redis,
      (cause) =>
        new QueueError('QUEUE_UNAVAILABLE', 'the warm-hints queue is unreachable (Redis)', {
          cause,
          retryable: true,
          context,
        }),
    );
    try {
      await this.queue.add(WARM_HINT_JOB_NAME, data, {
        deduplication: { id: data.agentId, ttl: this.#dedupeMs },
        attempts: 1,
        removeOnComplete: KEEP_FINISHED,
        removeOnFail: KEEP_FINISHED,
      });
    } catch (error) {
      throw new QueueError('ENQUEUE_FAILED', `could not queue a warm hint for agent ${data.agentId}`, {
        cause: error,
        retryable: true,
        context,
      });
    }
  }

  /** Closes the queue and its connection. Idempotent. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      await this.queue.close();
      this.#redis.disconnect();
    })();
    return this.#closed;
  }
}
