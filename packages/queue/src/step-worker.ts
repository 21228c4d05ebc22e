import { JOB_NAME, SandfleetError, type StepJobResult } from '@sandfleet/contracts';
import { DelayedError, type Job, type JobJsonRaw, UnrecoverableError, WaitingError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { DeferError, HandBackError, QueueError } from './errors.js';
import { DEFAULT_JOB_DATA_BOUNDS, type JobDataBounds, jobDataProblem } from './job-data-bounds.js';
import { type QueueLocation, resolveQueueLocation } from './queue-names.js';
import { createRedisConnection } from './redis-connection.js';

/** What a step handler gets for one delivery of a step job. */
export interface StepDelivery {
  /** The job id, which is the step id. */
  stepId: string;
  /** Raw job data; the handler validates it. Null when {@link rejection} is set. */
  data: unknown;
  /**
   * Set when the job's data was past the worker's bounds and so never parsed (`JOB_DATA_REJECTED`,
   * final): the handler records the step as rejected.
   */
  rejection?: QueueError;
  /** BullMQ's attempt number of this delivery, from 1 (stalls do not count here; the row does). */
  attempt: number;
  /** Attempts the job was added with. */
  maxAttempts: number;
  /** Appends a line to the job's log (shown in Bull Board). */
  log(line: string): Promise<void>;
}

export type StepHandler = (delivery: StepDelivery) => Promise<StepJobResult>;

export interface StepWorkerOptions extends QueueLocation {
  redisUrl: string;
  workerId: string;
  concurrency: number;
  handler: StepHandler;
  /** A dead worker's job is taken back after about this long. @defaultValue 30000 */
  lockDurationMs?: number;
  /** How often stalled jobs are looked for. @defaultValue 15000 */
  stalledIntervalMs?: number;
  /** Times a job may stall (its worker died) and run again before it fails for good. @defaultValue 2 */
  maxStalledCount?: number;
  /** Job data past these is not parsed; its delivery carries a `rejection`. @defaultValue {@link DEFAULT_JOB_DATA_BOUNDS} */
  jobDataBounds?: Partial<JobDataBounds>;
  onError?(error: Error): void;
  /**
   * Called when a job failed for good in BullMQ — also when no handler ran, as when it stalled
   * more than `maxStalledCount` times — so the step's record can be ended too.
   */
  onFailed?(stepId: string, reason: string): void | Promise<void>;
}

/**
 * The BullMQ side of a worker: pulls `step` jobs and translates handler outcomes into BullMQ terms.
 * A non-retryable `SandfleetError` fails the job for good; a retryable one is retried with backoff;
 * a {@link HandBackError} puts the job back in the queue without spending an attempt.
 */
export class StepWorker {
  readonly #worker: BoundedWorker;
  readonly #redis: Redis;
  #closed?: Promise<void>;

  constructor(options: StepWorkerOptions) {
    const { prefix, name } = resolveQueueLocation(options);
    this.#redis = createRedisConnection({
      url: options.redisUrl,
      role: 'worker',
      name: `sandfleet-worker-${options.workerId}`,
    });
    const bounds = { ...DEFAULT_JOB_DATA_BOUNDS, ...options.jobDataBounds };
    this.#worker = new BoundedWorker(
      bounds,
      name,
      (job, token) => this.#process(options.handler, job, token),
      {
        connection: this.#redis,
        prefix,
        name: options.workerId,
        concurrency: options.concurrency,
        lockDuration: options.lockDurationMs ?? 30_000,
        stalledInterval: options.stalledIntervalMs ?? 15_000,
        maxStalledCount: options.maxStalledCount ?? 2,
        autorun: false,
      },
    );
    if (options.onError) this.#worker.on('error', options.onError);
    const { onFailed } = options;
    if (onFailed) {
      // 'failed' also fires for attempts that will be retried; only a job in the failed set is over.
      this.#worker.on('failed', (job, error) => {
        if (!job?.id) return;
        void job
          .isFailed()
          .then((over) => (over ? onFailed(job.id as string, error.message) : undefined))
          .catch((err: Error) => this.#worker.emit('error', err));
      });
    }
  }

  /** Starts pulling jobs; resolves once the worker is connected. */
  async start(): Promise<void> {
    void this.#worker.run().catch((error: Error) => this.#worker.emit('error', error));
    await this.#worker.waitUntilReady();
  }

  /** Stops taking new jobs; running handlers keep going. */
  async pause(): Promise<void> {
    await this.#worker.pause(true);
  }

  /** Waits for running handlers, then disconnects. Idempotent. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      await this.#worker.close();
      this.#redis.disconnect();
    })();
    return this.#closed;
  }

  async #process(handler: StepHandler, job: Job, token: string | undefined): Promise<StepJobResult> {
    if (job.name !== JOB_NAME)
      throw new UnrecoverableError(`unexpected job name ${job.name}; expected ${JOB_NAME}`);
    const rejection = this.#worker.rejectionOf(job);
    const delivery: StepDelivery = {
      stepId: job.id as string,
      data: job.data,
      ...(rejection ? { rejection } : {}),
      attempt: job.attemptsMade + 1,
      maxAttempts: job.opts.attempts ?? 1,
      log: async (line) => {
        await job.log(line);
      },
    };
    try {
      return await handler(delivery);
    } catch (error) {
      if (error instanceof DeferError) {
        await job.moveToDelayed(Date.now() + error.delayMs, token);
        throw new DelayedError();
      }
      if (error instanceof HandBackError) {
        await job.moveToWait(token);
        throw new WaitingError();
      }
      if (error instanceof SandfleetError && !error.retryable) {
        throw new UnrecoverableError(`${error.code}: ${error.message}`);
      }
      throw error;
    }
  }
}

/**
 * A BullMQ worker that checks a job's raw data against bounds before parsing it: BullMQ would
 * `JSON.parse` any size (a 100 MB job doubled the worker's memory) and any depth (which the
 * recursive code after it cannot take). A job past them gets `null` data and a rejection.
 */
class BoundedWorker extends Worker {
  readonly #bounds: JobDataBounds;
  /** Job data this worker refused to parse, by the job it made instead. */
  readonly #rejections = new WeakMap<Job, QueueError>();

  constructor(bounds: JobDataBounds, ...args: ConstructorParameters<typeof Worker>) {
    super(...args);
    this.#bounds = bounds;
  }

  protected override createJob(raw: JobJsonRaw, jobId: string): Job {
    const problem = typeof raw.data === 'string' ? jobDataProblem(raw.data, this.#bounds) : undefined;
    if (problem === undefined) return super.createJob(raw, jobId);
    const job = super.createJob({ ...raw, data: 'null' }, jobId);
    const stepId = raw.id ?? jobId;
    this.#rejections.set(
      job,
      new QueueError('JOB_DATA_REJECTED', `step ${stepId} rejected: ${problem}`, { context: { stepId } }),
    );
    return job;
  }

  /** Why the job's data was not parsed, when it was past the bounds. */
  rejectionOf(job: Job): QueueError | undefined {
    return this.#rejections.get(job);
  }
}
