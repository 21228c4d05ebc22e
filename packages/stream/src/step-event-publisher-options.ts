import { DEFAULT_FLEET_NAMES, type FleetNames, type StepEventBody } from '@sandfleet/contracts';
import type { Redis } from 'ioredis';
import { assertIntOption } from './errors.js';

/** Output buffered before an `output` event is cut and written. */
export const DEFAULT_FLUSH_BYTES = 64 * 1024;
/** Longest time the first buffered output byte waits before being written. */
export const DEFAULT_FLUSH_INTERVAL_MS = 5;
/**
 * Output queued for Redis (besides the batch being written) before `output()` makes its caller
 * wait: 16 events of {@link DEFAULT_FLUSH_BYTES}, so a fast step's batches carry many events and
 * the writes overlap the reading (measured: 17-26 MB/s through one publisher with 64 KiB, 35-39
 * MB/s with 1 MiB, on a loaded 2-core machine).
 */
export const DEFAULT_MAX_PENDING_BYTES = 1024 * 1024;
/** Approximate number of entries a step's replay stream keeps (`XADD … MAXLEN ~`). */
export const DEFAULT_STREAM_MAX_LEN = 100_000;
/** How long a step's replay stream lives after its `finished` event. */
export const DEFAULT_FINISHED_TTL_SECONDS = 86_400;

/** Options of {@link StepEventPublisher.open}. */
export interface StepEventPublisherOptions {
  /** Command connection (not in subscriber mode) used for XADD/PUBLISH pipelines; not closed by the publisher. */
  redis: Redis;
  /** Names of the step's fleet. @defaultValue the default fleet's (`sandfleet:events:{stepId}`) */
  names?: FleetNames;
  stepId: string;
  /**
   * The attempt this publisher belongs to (the row's `attempts` when it started): opening claims
   * the step's events for it, so an older attempt can publish nothing afterwards. Leave out for a
   * publisher that is not an attempt (cancel, a job the queue failed).
   */
  attempt?: number;
  /** Secret values to redact from everything published (see `Redactor` for what is matched). */
  secrets: readonly string[];
  /** Most UTF-8 bytes of (redacted) output text published for the step; the rest is dropped. */
  outputLimitBytes: number;
  /** Output buffered before an `output` event is cut. @defaultValue {@link DEFAULT_FLUSH_BYTES} */
  flushBytes?: number;
  /** Milliseconds after the first buffered byte when it is written anyway. @defaultValue {@link DEFAULT_FLUSH_INTERVAL_MS} */
  flushIntervalMs?: number;
  /** Output queued for Redis before `output()` waits. @defaultValue {@link DEFAULT_MAX_PENDING_BYTES} */
  maxPendingBytes?: number;
  /** Approximate cap on replay stream entries. @defaultValue {@link DEFAULT_STREAM_MAX_LEN} */
  streamMaxLen?: number;
  /** Seconds the replay stream lives after `finished`. @defaultValue {@link DEFAULT_FINISHED_TTL_SECONDS} */
  finishedTtlSeconds?: number;
}

/** {@link StepEventPublisherOptions} with defaults applied and ranges checked. */
export interface StepEventPublisherConfig
  extends Required<Omit<StepEventPublisherOptions, 'secrets' | 'attempt'>> {
  secrets: readonly string[];
  attempt?: number;
}

/**
 * Applies defaults and checks ranges.
 * @throws StreamError `STREAM_OPTIONS_INVALID`.
 */
export function resolvePublisherOptions(options: StepEventPublisherOptions): StepEventPublisherConfig {
  const config: StepEventPublisherConfig = {
    ...options,
    names: options.names ?? DEFAULT_FLEET_NAMES,
    flushBytes: options.flushBytes ?? DEFAULT_FLUSH_BYTES,
    flushIntervalMs: options.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS,
    maxPendingBytes: options.maxPendingBytes ?? DEFAULT_MAX_PENDING_BYTES,
    streamMaxLen: options.streamMaxLen ?? DEFAULT_STREAM_MAX_LEN,
    finishedTtlSeconds: options.finishedTtlSeconds ?? DEFAULT_FINISHED_TTL_SECONDS,
  };
  assertIntOption('outputLimitBytes', config.outputLimitBytes, 0);
  assertIntOption('flushBytes', config.flushBytes, 1);
  assertIntOption('flushIntervalMs', config.flushIntervalMs, 0, 2_147_483_647);
  assertIntOption('maxPendingBytes', config.maxPendingBytes, 1);
  assertIntOption('streamMaxLen', config.streamMaxLen, 1);
  assertIntOption('finishedTtlSeconds', config.finishedTtlSeconds, 1);
  if (config.attempt !== undefined) assertIntOption('attempt', config.attempt, 1);
  return config;
}

type BodyOf<T extends StepEventBody['type']> = Omit<Extract<StepEventBody, { type: T }>, 'type'>;

/** What {@link StepEventPublisher.status} publishes: `{ status, attempt?, workerId?, message? }`. */
export type StatusBody = BodyOf<'status'>;

/** What {@link StepEventPublisher.finished} publishes: `{ status, exitCode, error?, oomKilled?, durationMs? }`. */
export type FinishedBody = BodyOf<'finished'>;
