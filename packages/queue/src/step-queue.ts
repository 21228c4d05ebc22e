import { randomUUID } from 'node:crypto';
import { JOB_NAME, parseOrThrow, StepSpec, type StepStatus } from '@sandfleet/contracts';
import { type JobsOptions, Queue } from 'bullmq';
import { type Redis, ReplyError } from 'ioredis';
import { QueueError } from './errors.js';
import { type QueueLocation, resolveQueueLocation } from './queue-names.js';
import { createRedisConnection } from './redis-connection.js';

/** The part of the step store the producer needs (structurally matches `@sandfleet/db`'s StepRepository). */
export interface StepStoreForEnqueue {
  insertQueued(step: { id: string; spec: StepSpec }): Promise<{ inserted: boolean }>;
  get(id: string): Promise<{ status: StepStatus } | undefined>;
  /** Deletes the row of a step that never started; the undo of `insertQueued`. */
  deleteQueued(id: string): Promise<boolean>;
}

export interface StepQueueOptions extends QueueLocation {
  redisUrl: string;
  /** Records the `queued` row; leave out to enqueue like a plain BullMQ producer would. */
  store?: StepStoreForEnqueue;
  /**
   * Connection errors BullMQ reports in the background (calls still fail on their own). Without
   * a listener they would be unhandled and end the process. @defaultValue ignore them
   */
  onError?(error: Error): void;
}

export interface EnqueueResult {
  id: string;
  /** False when a step with this id already existed (enqueue is idempotent by id). */
  created: boolean;
}

export type StepJobState =
  | 'waiting'
  | 'delayed'
  | 'prioritized'
  | 'active'
  | 'completed'
  | 'failed'
  | 'unknown';

/** Finished jobs are kept this long for Bull Board, then trimmed. */
const KEEP_COMPLETED = { age: 24 * 3600, count: 10_000 };
const KEEP_FAILED = { age: 7 * 24 * 3600, count: 50_000 };

/**
 * Producer side of the `steps` queue: validates a StepSpec, records the `queued` row and adds the
 * job (job id = step id), so the same id twice is one step.
 */
export class StepQueue {
  readonly queue: Queue;
  readonly #redis: Redis;
  readonly #store: StepStoreForEnqueue | undefined;
  #closed?: Promise<void>;

  constructor(options: StepQueueOptions) {
    const { prefix, name } = resolveQueueLocation(options);
    this.#redis = createRedisConnection({
      url: options.redisUrl,
      role: 'producer',
      name: 'sandfleet-producer',
    });
    this.queue = new Queue(name, { connection: this.#redis, prefix });
    this.queue.on('error', options.onError ?? (() => {}));
    this.#store = options.store;
  }

  /**
   * Validates `input` as StepSpec v1 and enqueues it.
   * @throws ValidationError (code `VALIDATION_FAILED`) naming every bad field; nothing is written then.
   * @throws QueueError `QUEUE_UNAVAILABLE` (retryable) while Redis is unreachable; nothing is written then.
   * @throws QueueError `QUEUE_FULL` (retryable) when Redis is at `maxmemory`; the row this call
   *   recorded is deleted again, so nothing is written then either.
   */
  async enqueue(input: unknown): Promise<EnqueueResult> {
    const parsed = parseOrThrow(StepSpec, input, 'step spec');
    const spec: StepSpec = { ...parsed, id: parsed.id ?? randomUUID() };
    const id = spec.id as string;
    await this.#connected(id);
    let created = true;
    if (this.#store) {
      const { inserted } = await this.#store.insertQueued({ id, spec });
      if (!inserted) {
        created = false;
        // The row may exist from an enqueue whose job add failed; add the job only while still queued.
        const row = await this.#store.get(id);
        if (row?.status !== 'queued') return { id, created };
      }
    }
    try {
      const existing = await this.queue.getJob(id);
      if (existing) return { id, created: false };
      await this.queue.add(JOB_NAME, spec, jobOptions(spec));
    } catch (error) {
      if (isOutOfMemory(error)) throw await this.#full(id, created, error);
      throw new QueueError('ENQUEUE_FAILED', `could not add step ${id} to the queue`, {
        cause: error,
        retryable: true,
        context: { stepId: id },
      });
    }
    return { id, created };
  }

  /**
   * Removes a step that has not started yet; false when it is running, finished or unknown.
   * @throws QueueError `QUEUE_UNAVAILABLE` (retryable) while Redis is unreachable.
   */
  async removeQueued(stepId: string): Promise<boolean> {
    const job = await this.#call(stepId, () => this.queue.getJob(stepId));
    if (!job) return false;
    const state = await this.#call(stepId, () => job.getState());
    if (state !== 'waiting' && state !== 'delayed' && state !== 'prioritized') return false;
    try {
      await job.remove();
      return true;
    } catch {
      return false; // a worker took it between the state check and the removal
    }
  }

  async jobState(stepId: string): Promise<StepJobState> {
    const job = await this.#call(stepId, () => this.queue.getJob(stepId));
    if (!job) return 'unknown';
    const state = await this.#call(stepId, () => job.getState());
    return (
      (['waiting', 'delayed', 'prioritized', 'active', 'completed', 'failed'] as const).find(
        (s) => s === state,
      ) ?? 'unknown'
    );
  }

  /** Job counts by state, for metrics and `sandfleet doctor`. */
  async counts(): Promise<Record<string, number>> {
    return this.#call(undefined, () =>
      this.queue.getJobCounts('waiting', 'delayed', 'prioritized', 'active', 'completed', 'failed'),
    );
  }

  /**
   * The error of a job add Redis refused for `maxmemory`, after deleting the row this enqueue
   * recorded (`inserted`): a `-OOM` reply means the add script wrote nothing, so with the row gone
   * the step was never accepted. Should the delete fail, the `queued` row stays and the worker's
   * reconciler adds its job once Redis has room.
   */
  async #full(stepId: string, inserted: boolean, cause: unknown): Promise<QueueError> {
    const undone = inserted && this.#store ? await this.#store.deleteQueued(stepId).catch(() => false) : true;
    return new QueueError('QUEUE_FULL', 'the steps queue is full (Redis is at maxmemory); try again later', {
      cause,
      retryable: true,
      context: { stepId, ...(undone ? {} : { rowKept: true }) },
    });
  }

  async ping(): Promise<void> {
    await this.#redis.ping();
  }

  /**
   * Fails fast while Redis is unreachable. BullMQ waits for a first connection without a deadline,
   * so without this a producer started while Redis was down would hang every call until it is up.
   */
  async #connected(stepId?: string): Promise<void> {
    if (this.#redis.status === 'ready') return;
    try {
      await this.#redis.ping();
    } catch (error) {
      throw unavailable(error, stepId);
    }
  }

  /**
   * Runs a Redis call once connected. A failure without a Redis reply (the connection dropped, or
   * the producer stopped waiting for it) is `QUEUE_UNAVAILABLE`; a reply error is thrown as it is.
   */
  async #call<T>(stepId: string | undefined, call: () => Promise<T>): Promise<T> {
    await this.#connected(stepId);
    try {
      return await call();
    } catch (error) {
      throw error instanceof ReplyError ? error : unavailable(error, stepId);
    }
  }

  close(): Promise<void> {
    this.#closed ??= (async () => {
      await this.queue.close();
      this.#redis.disconnect();
    })();
    return this.#closed;
  }
}

function unavailable(cause: unknown, stepId: string | undefined): QueueError {
  return new QueueError('QUEUE_UNAVAILABLE', 'the steps queue is unreachable (Redis)', {
    cause,
    retryable: true,
    context: stepId === undefined ? {} : { stepId },
  });
}

/** Redis's answer to a write past `maxmemory` under `noeviction` (also inside a script). */
function isOutOfMemory(error: unknown): boolean {
  return error instanceof ReplyError && (error as Error).message.includes('OOM command not allowed');
}

function jobOptions(spec: StepSpec): JobsOptions {
  return {
    jobId: spec.id,
    priority: spec.priority,
    delay: spec.delayMs,
    attempts: spec.attempts,
    backoff: { type: 'exponential', delay: 1000 },
    removeOnComplete: KEEP_COMPLETED,
    removeOnFail: KEEP_FAILED,
  };
}
