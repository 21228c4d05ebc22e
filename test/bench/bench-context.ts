import type { TestFleet } from '../support/test-fleet.ts';
import type { BenchOptions } from './bench-options.ts';
import type { BenchWorker } from './bench-worker.ts';
import type { Progress } from './progress.ts';
import type { RawDocker } from './raw-docker.ts';

/** A trivial step, the same on both sides. */
export const ECHO = ['echo', 'hello'];

/** What each measure gets: the options, the raw side, the fleet and its worker. */
export interface BenchContext {
  options: BenchOptions;
  progress: Progress;
  raw: RawDocker;
  fleet: TestFleet;
  /** The fleet's worker (a child process); measures may replace it. */
  worker: BenchWorker;
  /** Aborted on SIGINT/SIGTERM: measures stop between samples. */
  signal: AbortSignal;
  /** Records another fleet a measure made, so the final leak check covers its names too. */
  trackFleet(fleet: TestFleet): void;
}

/** One line of the table: a raw baseline, Sandfleet's figure and their ratio (Sandfleet ÷ raw). */
export interface BenchRow {
  measure: string;
  unit: 'ms' | 'steps/s' | 'MB/s' | 'CPU-ms/step' | '%';
  /** A figure, or why there is none (`n/a (…)`, `—`). */
  raw: number | string;
  sandfleet: number | string;
  /** What else the JSON keeps of this row (samples, p90s, counts…). */
  detail?: Record<string, unknown>;
}

/** What one measure returns: its rows and, optionally, a note line under the table. */
export interface MeasureResult {
  name: string;
  rows: BenchRow[];
  notes?: string[];
}
