import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import {
  CONTAINER_PHASE_BUCKETS,
  HTTP_DURATION_BUCKETS,
  QUEUE_WAIT_BUCKETS,
  STEP_DURATION_BUCKETS,
} from './metric-buckets.js';
import type { ContainerPhaseTimings, StepRunMetrics } from './step-run-metrics.js';

/** Counts by name (job state, step status), as a scrape-time source returns them. */
export type CountsSource = () => Promise<Readonly<Record<string, number>>>;

/** Scrape-time sources, named in `sandfleet_metrics_collect_failures_total{source}`. */
export type CollectSourceName = 'queue' | 'steps';

/** @defaultValue of {@link SandfleetMetricsOptions.collectTimeoutMs}. */
export const DEFAULT_COLLECT_TIMEOUT_MS = 3000;

/** Options of {@link SandfleetMetrics}. */
export interface SandfleetMetricsOptions {
  /** Labels added to every metric, e.g. `{ service: 'api' }`. @defaultValue none */
  defaultLabels?: Readonly<Record<string, string>>;
  /**
   * Also export the process metrics of prom-client (CPU, memory, event-loop lag, GC). Turn on once
   * per process: each registry that collects them keeps its own event-loop monitor.
   * @defaultValue false
   */
  processMetrics?: boolean;
  /** Longest a scrape waits for a counts source before leaving its gauge out, ms. @defaultValue 3000 */
  collectTimeoutMs?: number;
  /** Told when a counts source fails or times out (the scrape still succeeds without that gauge). */
  onCollectError?: (error: unknown, source: CollectSourceName) => void;
}

/** One finished HTTP request, as the API observes it. */
export interface HttpRequestObservation {
  method: string;
  /** The route template (`/v1/steps/:id`), never the raw URL, so label values stay few. */
  route: string;
  statusCode: number;
  durationSeconds: number;
  /** Name of the API token that made it, when one did (operators name them: few values). */
  tokenName?: string | undefined;
}

const PHASES = ['create', 'inject', 'start', 'run', 'destroy'] as const;

/**
 * Sandfleet's Prometheus metrics on a registry of their own (never prom-client's global one), so
 * several instances live side by side in one process (tests, `sandfleet up`).
 *
 * Workers record step outcomes through {@link StepRunMetrics}; the API records HTTP requests and
 * registers scrape-time sources for queue depth and steps by status.
 */
export class SandfleetMetrics implements StepRunMetrics {
  /** The registry holding every metric below; render it with {@link SandfleetMetrics.render}. */
  readonly registry = new Registry();
  readonly #collectTimeoutMs: number;
  readonly #onCollectError: SandfleetMetricsOptions['onCollectError'];
  readonly #stepsFinished: Counter<'status'>;
  readonly #stepDuration: Histogram<'status'>;
  readonly #queueWait: Histogram;
  readonly #containerPhase: Histogram<'phase'>;
  readonly #activeContainers: Gauge<'worker_id'>;
  readonly #outputBytes: Counter;
  readonly #retries: Counter<'cause'>;
  readonly #warmPool: Counter<'result' | 'cause'>;
  readonly #repairs: Counter<'kind'>;
  readonly #httpRequests: Counter<'method' | 'route' | 'status_code'>;
  readonly #httpDuration: Histogram<'method' | 'route' | 'status_code'>;
  readonly #tokenRequests: Counter<'token' | 'status_code'>;
  readonly #collectFailures: Counter<'source'>;
  readonly #queueJobs: Gauge<'state'>;
  readonly #steps: Gauge<'status'>;
  #queueSource: CountsSource | undefined;
  #stepsSource: CountsSource | undefined;

  constructor(options: SandfleetMetricsOptions = {}) {
    this.#collectTimeoutMs = options.collectTimeoutMs ?? DEFAULT_COLLECT_TIMEOUT_MS;
    this.#onCollectError = options.onCollectError;
    if (options.defaultLabels) this.registry.setDefaultLabels(options.defaultLabels);
    const registers = [this.registry];
    const counter = <L extends string>(name: string, help: string, labelNames: readonly L[] = []) =>
      new Counter<L>({ name, help, labelNames, registers });
    const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[] = []) =>
      new Gauge<L>({ name, help, labelNames, registers });
    const histogram = <L extends string>(
      name: string,
      help: string,
      buckets: number[],
      labelNames: readonly L[] = [],
    ) => new Histogram<L>({ name, help, buckets, labelNames, registers });
    this.#stepsFinished = counter(
      'sandfleet_steps_finished_total',
      'Steps that reached a final status, by status.',
      ['status'],
    );
    this.#stepDuration = histogram(
      'sandfleet_step_duration_seconds',
      'Duration of finished steps from their first start (or creation when never started), by status.',
      STEP_DURATION_BUCKETS,
      ['status'],
    );
    this.#queueWait = histogram(
      'sandfleet_step_queue_wait_seconds',
      'Time steps waited in the queue before their first start.',
      QUEUE_WAIT_BUCKETS,
    );
    this.#containerPhase = histogram(
      'sandfleet_container_phase_seconds',
      'Time step containers spent in each lifecycle phase (create, inject, start, run, destroy).',
      CONTAINER_PHASE_BUCKETS,
      ['phase'],
    );
    this.#activeContainers = gauge('sandfleet_active_containers', 'Step containers running now, by worker.', [
      'worker_id',
    ]);
    this.#outputBytes = counter(
      'sandfleet_step_output_bytes_total',
      'Bytes printed by steps, including output dropped past their limit.',
    );
    this.#retries = counter(
      'sandfleet_step_retries_total',
      'Infrastructure failures a worker retried, by cause (an error code, or db_unavailable for a write waiting on PostgreSQL).',
      ['cause'],
    );
    this.#warmPool = counter(
      'sandfleet_warm_pool_runs_total',
      'Step containers by whether a warm container ran them: result hit, or miss with its cause (none, image, limits, network, vault, labels, lost, off, not-runtime).',
      ['result', 'cause'],
    );
    this.#repairs = counter(
      'sandfleet_reconciler_repairs_total',
      'Steps the reconciler repaired, by kind: queued_without_job, running_without_job, lost (ended in error).',
      ['kind'],
    );
    this.#httpRequests = counter(
      'sandfleet_http_requests_total',
      'HTTP requests answered by the API, by method, route template and status code.',
      ['method', 'route', 'status_code'],
    );
    this.#httpDuration = histogram(
      'sandfleet_http_request_duration_seconds',
      'Time the API took to answer HTTP requests (until the end of the response, SSE included).',
      HTTP_DURATION_BUCKETS,
      ['method', 'route', 'status_code'],
    );
    this.#tokenRequests = counter(
      'sandfleet_http_requests_by_token_total',
      'HTTP requests the API answered for an API token, by token name and status code (403 out of scope, 429 past a quota).',
      ['token', 'status_code'],
    );
    this.#collectFailures = counter(
      'sandfleet_metrics_collect_failures_total',
      'Scrapes that could not read a source (queue, steps) and left its gauge out.',
      ['source'],
    );
    this.#queueJobs = gauge(
      'sandfleet_queue_jobs',
      'Jobs in the steps queue, by BullMQ state (read at each scrape).',
      ['state'],
    );
    this.#steps = gauge('sandfleet_steps', 'Rows of the steps table, by status (read at each scrape).', [
      'status',
    ]);
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry });
  }

  /** Content-Type of {@link SandfleetMetrics.render}'s text (Prometheus text format 0.0.4). */
  get contentType(): string {
    return this.registry.contentType;
  }

  /**
   * The metrics in Prometheus text format, after reading the scrape-time sources (so a failed
   * source is already counted in this scrape). Use this rather than `registry.metrics()`.
   */
  async render(): Promise<string> {
    await Promise.all([
      this.#collect(this.#queueJobs, 'state', this.#queueSource, 'queue'),
      this.#collect(this.#steps, 'status', this.#stepsSource, 'steps'),
    ]);
    return this.registry.metrics();
  }

  /** Reads queue depth from `source` (e.g. `StepQueue.counts`) at every scrape. */
  collectQueueDepth(source: CountsSource): void {
    this.#queueSource = source;
  }

  /** Reads steps by status from `source` (e.g. `StepRepository.countByStatus`) at every scrape. */
  collectStepStatuses(source: CountsSource): void {
    this.#stepsSource = source;
  }

  observeQueueWait(seconds: number): void {
    if (Number.isFinite(seconds)) this.#queueWait.observe(Math.max(0, seconds));
  }

  containerStarted(workerId: string): void {
    this.#activeContainers.inc({ worker_id: workerId });
  }

  containerStopped(workerId: string): void {
    this.#activeContainers.dec({ worker_id: workerId });
  }

  observeContainerPhases(timings: ContainerPhaseTimings): void {
    for (const phase of PHASES) {
      const ms = timings[`${phase}Ms`];
      if (Number.isFinite(ms)) this.#containerPhase.observe({ phase }, Math.max(0, ms) / 1000);
    }
  }

  stepFinished(status: string, durationSeconds: number): void {
    this.#stepsFinished.inc({ status });
    if (Number.isFinite(durationSeconds)) {
      this.#stepDuration.observe({ status }, Math.max(0, durationSeconds));
    }
  }

  addOutputBytes(bytes: number): void {
    if (Number.isFinite(bytes) && bytes > 0) this.#outputBytes.inc(bytes);
  }

  stepRetried(cause: string): void {
    this.#retries.inc({ cause });
  }

  observeWarmPool(result: 'hit' | 'miss', cause = ''): void {
    this.#warmPool.inc({ result, cause });
  }

  reconcilerRepaired(kind: string): void {
    this.#repairs.inc({ kind });
  }

  /** Records one answered HTTP request. */
  observeHttpRequest(request: HttpRequestObservation): void {
    const labels = {
      method: request.method,
      route: request.route,
      status_code: String(request.statusCode),
    };
    this.#httpRequests.inc(labels);
    this.#httpDuration.observe(labels, Math.max(0, request.durationSeconds));
    if (request.tokenName !== undefined)
      this.#tokenRequests.inc({ token: request.tokenName, status_code: labels.status_code });
  }

  async #collect<L extends string>(
    gauge: Gauge<L>,
    label: L,
    source: CountsSource | undefined,
    name: CollectSourceName,
  ): Promise<void> {
    if (!source) return;
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`${name} source took over ${this.#collectTimeoutMs} ms`)),
          this.#collectTimeoutMs,
        );
      });
      const counts = await Promise.race([source(), timeout]);
      gauge.reset();
      for (const [key, value] of Object.entries(counts))
        gauge.set({ [label]: key } as Partial<Record<L, string>>, value);
    } catch (error) {
      // A stale depth reads as a healthy queue; an absent one makes the outage visible.
      gauge.reset();
      this.#collectFailures.inc({ source: name });
      this.#onCollectError?.(error, name);
    } finally {
      clearTimeout(timer);
    }
  }
}
