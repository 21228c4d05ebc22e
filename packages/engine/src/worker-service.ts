import type { Logger } from '@sandfleet/logging';
import { type JobDataBounds, type QueueLocation, StepWorker, type WorkerRegistry } from '@sandfleet/queue';
import { StepOutcomes } from '@sandfleet/steps';
import type { CancelBus } from '@sandfleet/stream';
import { OrphanReaper } from './orphan-reaper.js';
import { RunningSteps } from './running-steps.js';
import { type ReconcileReport, StepReconciler, type StepReconcilerDeps } from './step-reconciler.js';
import { StepRunner, type StepRunnerDeps } from './step-runner.js';
import { WarmHints } from './warm-hints.js';

export interface WorkerServiceOptions extends Omit<StepRunnerDeps, 'running' | 'logger'> {
  logger: Logger;
  redisUrl: string;
  queue?: QueueLocation;
  concurrency: number;
  registry: WorkerRegistry;
  cancelBus: Pick<CancelBus, 'subscribe'>;
  /** On shutdown running steps get this long to finish before they are stopped and handed back, ms. */
  drainGraceMs: number;
  reaperIntervalMs: number;
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  /** Times a step's worker may die under it before the step ends in error. @defaultValue 2 */
  maxStalledCount?: number;
  /** Raw job data past these ends `error` unparsed. @defaultValue `DEFAULT_JOB_DATA_BOUNDS` of `@sandfleet/queue` */
  jobDataBounds?: Partial<JobDataBounds>;
  /**
   * Warm hints of the fleet (`POST /v1/agents/{agentId}/warm`) warmed at once.
   * @defaultValue `DEFAULT_WARM_HINT_CONCURRENCY` of `@sandfleet/queue` (2)
   */
  warmHintConcurrency?: number;
  /** Puts back jobs Redis lost (PostgreSQL is the record of accepted steps); leave out to turn off. */
  reconciler?: Pick<StepReconcilerDeps, 'queue' | 'intervalMs' | 'staleAfterMs'>;
}

/**
 * A whole worker: heartbeat, orphan reaper, cancel listener, the BullMQ worker running steps and
 * the consumer of the fleet's warm hints.
 * `close()` drains: no new jobs, running steps get `drainGraceMs`, then are stopped and handed back.
 */
export class WorkerService {
  readonly running = new RunningSteps();
  /** Aborted once the drain grace is over: writes then stop waiting for PostgreSQL. */
  readonly #stopping = new AbortController();
  readonly #options: WorkerServiceOptions;
  readonly #worker: StepWorker;
  readonly #reaper: OrphanReaper;
  readonly #warmHints: WarmHints;
  readonly #reconciler: StepReconciler | undefined;
  /** Ends steps no handler here runs (jobs the queue failed, jobs lost): written once, not waited out. */
  readonly #outcomes: StepOutcomes;
  #closed?: Promise<void>;

  constructor(options: WorkerServiceOptions) {
    this.#options = options;
    const logger = options.logger;
    this.#outcomes = new StepOutcomes({ steps: options.steps, openPublisher: options.openPublisher });
    const runner = new StepRunner({
      ...options,
      running: this.running,
      logger,
      stopping: this.#stopping.signal,
    });
    this.#worker = new StepWorker({
      ...options.queue,
      redisUrl: options.redisUrl,
      workerId: options.workerId,
      concurrency: options.concurrency,
      lockDurationMs: options.lockDurationMs,
      stalledIntervalMs: options.stalledIntervalMs,
      maxStalledCount: options.maxStalledCount,
      ...(options.jobDataBounds ? { jobDataBounds: options.jobDataBounds } : {}),
      handler: (delivery) => runner.handle(delivery),
      onFailed: (stepId, reason) => this.#endFailedJob(stepId, reason),
      onError: (error) => logger.error({ err: error }, 'queue worker error'),
    });
    this.#warmHints = new WarmHints({
      workerId: options.workerId,
      sandbox: options.sandbox,
      images: options.images,
      defaultImage: options.defaultImage,
      limits: options.limits,
      fleet: options.fleet,
      logger,
      redisUrl: options.redisUrl,
      queue: options.queue,
      concurrency: options.warmHintConcurrency,
    });
    this.#reaper = new OrphanReaper({
      sandbox: options.sandbox,
      registry: options.registry,
      workerId: options.workerId,
      logger,
      intervalMs: options.reaperIntervalMs,
      // One more heartbeat lifetime: a worker is reaped six missed beats after its last one.
      missingGraceMs: options.registry.ttlMs,
      fleet: options.fleet,
    });
    this.#reconciler =
      options.reconciler &&
      new StepReconciler({
        ...options.reconciler,
        steps: options.steps,
        sandbox: options.sandbox,
        outcomes: this.#outcomes,
        logger,
        onRepair: (kind) => options.metrics?.reconcilerRepaired(kind),
      });
  }

  /** The reconciler's sweep, run now (tests, operators); undefined when it is off. */
  reconcile(): Promise<ReconcileReport> | undefined {
    return this.#reconciler?.reconcile();
  }

  async start(): Promise<void> {
    const { registry, cancelBus, logger, workerId, concurrency } = this.#options;
    await registry.start();
    await this.#reaper.start();
    await cancelBus.subscribe((stepId) => {
      if (this.running.stop(stepId, 'cancel')) logger.info({ stepId }, 'cancel requested; stopping step');
    });
    await this.#worker.start();
    await this.#warmHints.start();
    this.#reconciler?.start();
    logger.info({ workerId, concurrency }, 'worker started');
  }

  /** Drains and stops. Idempotent. */
  close(): Promise<void> {
    this.#closed ??= this.#drain();
    return this.#closed;
  }

  /**
   * A job BullMQ failed for good ends its step in error, unless the handler already recorded an
   * outcome (then this is a no-op): a step whose workers kept dying is not left `running`.
   */
  async #endFailedJob(stepId: string, reason: string): Promise<void> {
    const { logger } = this.#options;
    if (await this.#outcomes.endInError(stepId, { code: 'JOB_FAILED', message: reason }))
      logger.error({ stepId, reason }, 'step job failed in the queue; step ended in error');
  }

  async #drain(): Promise<void> {
    const { logger, drainGraceMs, registry } = this.#options;
    logger.info({ running: this.running.size, drainGraceMs }, 'worker draining');
    const grace = setTimeout(() => {
      this.#stopping.abort();
      const stopped = this.running.stopAll('shutdown');
      if (stopped > 0)
        logger.warn({ stopped }, 'drain grace over; stopping running steps and handing them back');
    }, drainGraceMs);
    try {
      // A hint being warmed is waited for: the sandbox closes after the service.
      await Promise.all([this.#worker.close(), this.#warmHints.close()]);
    } finally {
      clearTimeout(grace);
    }
    await this.#reaper.stop();
    await this.#reconciler?.stop();
    await registry.stop();
    logger.info('worker stopped');
  }
}
