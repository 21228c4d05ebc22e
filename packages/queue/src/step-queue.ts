import { randomUUID } from 'node:crypto';
import {
  type ErrorContext,
  JOB_NAME,
  parseOrThrow,
  StepSpec,
  type StepStatus,
  ValidationError,
} from '@sandfleet/contracts';
import { type JobsOptions, Queue } from 'bullmq';
import { type Redis, ReplyError } from 'ioredis';
import { QueueError } from './errors.js';
import { type QueueLocation, resolveQueueLocation } from './queue-names.js';
import { assertReachable, createRedisConnection } from './redis-connection.js';

/** The part of the step store the producer needs (structurally matches `@sandfleet/db`'s StepRepository). */
export interface StepStoreForEnqueue {
  insertQueued(step: { id: string; spec: StepSpec }): Promise<{ inserted: boolean }>;
  /** Records many `queued` rows in one transaction; returns the ids it inserted (new ones). */
  insertQueuedMany(
    steps: readonly { id: string; spec: StepSpec; producer?: string | null }[],
  ): Promise<string[]>;
  get(id: string): Promise<{ status: StepStatus } | undefined>;
  /** The status of each of `ids` that has a row. */
  getStates(ids: readonly string[]): Promise<ReadonlyMap<string, { status: StepStatus }>>;
  /** Deletes the row of a step that never started; the undo of `insertQueued`. */
  deleteQueued(id: string): Promise<boolean>;
  /** {@link deleteQueued} of many; returns the ids it deleted. */
  deleteQueuedMany(ids: readonly string[]): Promise<string[]>;
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

/** One item's outcome in {@link StepQueue.enqueueMany}: enqueued, or refused as not a StepSpec. */
export type EnqueueManyResult = EnqueueResult | { error: ValidationError };

/** Options of {@link StepQueue.enqueueMany}. */
export interface EnqueueManyOptions {
  /** Name of the API token enqueueing, recorded as each new row's `producer`. @defaultValue null */
  producer?: string;
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
   * {@link enqueue} of many specs at once: every valid item's row in one transaction, then one
   * `addBulk` of the jobs not in the queue yet. One result per input, in order; an invalid input
   * is `{ error }` (a `ValidationError`) and fails only itself. Each item is idempotent by its id
   * as `enqueue` is; an id given twice is one step, the later items answering `created: false`.
   * An item whose row exists but is no longer `queued` gets no job again.
   * @throws QueueError `QUEUE_UNAVAILABLE` (retryable) while Redis is unreachable; nothing is written then.
   * @throws QueueError `QUEUE_FULL` (retryable) when Redis is at `maxmemory`: the rows this call
   *   recorded whose jobs Redis did not take are deleted again (those it took stay, and run).
   * @throws QueueError `ENQUEUE_FAILED` (retryable) when adding the jobs failed otherwise; the
   *   rows stay `queued` (the reconciler adds their jobs) and the same call again adds them.
   */
  async enqueueMany(
    inputs: readonly unknown[],
    options: EnqueueManyOptions = {},
  ): Promise<EnqueueManyResult[]> {
    const results: EnqueueManyResult[] = [];
    const specs = new Map<string, StepSpec & { id: string }>();
    for (const input of inputs) {
      try {
        const parsed = parseOrThrow(StepSpec, input, 'step spec');
        const id = parsed.id ?? randomUUID();
        results.push({ id, created: !specs.has(id) });
        if (!specs.has(id)) specs.set(id, { ...parsed, id });
      } catch (error) {
        if (!(error instanceof ValidationError)) throw error;
        results.push({ error });
      }
    }
    if (specs.size === 0) return results;
    await this.#connected();
    let fresh = new Set(specs.keys());
    let pending = [...specs.values()];
    // Which jobs exist already, asked while the rows are inserted; its failure is met below.
    const present = this.#jobsPresent([...specs.keys()]);
    present.catch(() => undefined);
    if (this.#store) {
      const producer = options.producer ?? null;
      const rows = pending.map((spec) => ({ id: spec.id, spec, producer }));
      fresh = new Set(await this.#store.insertQueuedMany(rows));
      // Rows recorded before may be from a call whose job add failed: add jobs only while still queued.
      const known = pending.filter((spec) => !fresh.has(spec.id)).map((spec) => spec.id);
      const states = known.length === 0 ? new Map() : await this.#store.getStates(known);
      pending = pending.filter((spec) => fresh.has(spec.id) || states.get(spec.id)?.status === 'queued');
    }
    let queued: Set<string>;
    try {
      queued = await present;
      const jobs = pending.filter((spec) => !queued.has(spec.id));
      if (jobs.length > 0)
        await this.queue.addBulk(
          jobs.map((spec) => ({ name: JOB_NAME, data: spec, opts: jobOptions(spec) })),
        );
    } catch (error) {
      if (isOutOfMemory(error)) throw await this.#fullMany(pending, fresh, error);
      throw new QueueError('ENQUEUE_FAILED', `could not add ${pending.length} steps to the queue`, {
        cause: error,
        retryable: true,
        context: { steps: pending.length },
      });
    }
    return results.map((result) =>
      'error' in result || !result.created
        ? result
        : { id: result.id, created: fresh.has(result.id) && !queued.has(result.id) },
    );
  }

  /** Which of `ids` have a job in the queue, in one pipelined round trip. */
  async #jobsPresent(ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const pipeline = this.#redis.pipeline();
    for (const id of ids) pipeline.exists(this.queue.toKey(id));
    const replies = (await pipeline.exec()) ?? [];
    const present = new Set<string>();
    replies.forEach(([error, exists], index) => {
      if (error) throw error;
      if (exists === 1) present.add(ids[index] as string);
    });
    return present;
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
    return queueFull(cause, { stepId }, undone);
  }

  /**
   * {@link #full} of an `addBulk` Redis refused for `maxmemory`: its pipeline may have added some
   * jobs before memory ran out, so the rows this call recorded (`fresh`) are deleted only for jobs
   * that are not in the queue. Should that check or the delete fail, the rows stay and the
   * worker's reconciler adds their jobs once Redis has room.
   */
  async #fullMany(
    pending: readonly StepSpec[],
    fresh: ReadonlySet<string>,
    cause: unknown,
  ): Promise<QueueError> {
    let undone = true;
    if (this.#store) {
      const recorded = pending.map((spec) => spec.id as string).filter((id) => fresh.has(id));
      undone = await this.#jobsPresent(recorded)
        .then((present) => this.#store?.deleteQueuedMany(recorded.filter((id) => !present.has(id))))
        .then(
          () => true,
          () => false,
        );
    }
    return queueFull(cause, { steps: pending.length }, undone);
  }

  async ping(): Promise<void> {
    await this.#redis.ping();
  }

  /** Fails fast while Redis is unreachable (`QUEUE_UNAVAILABLE`). */
  #connected(stepId?: string): Promise<void> {
    return assertReachable(this.#redis, (cause) => unavailable(cause, stepId));
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

/** `QUEUE_FULL`; `undone`: the rows of the refused jobs were deleted (else `context.rowKept`). */
function queueFull(cause: unknown, context: ErrorContext, undone: boolean): QueueError {
  return new QueueError('QUEUE_FULL', 'the steps queue is full (Redis is at maxmemory); try again later', {
    cause,
    retryable: true,
    context: { ...context, ...(undone ? {} : { rowKept: true }) },
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
