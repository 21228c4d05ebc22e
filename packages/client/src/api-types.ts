import type { StepCommand, StepKind, StepStatus } from '@sandfleet/contracts';

/** `POST /v1/steps` answer. */
export interface CreateStepResult {
  /** The step id: the spec's `id`, one derived from the idempotency key, or a generated UUID. */
  id: string;
  /** False when a step with this id had been enqueued before (nothing new was enqueued). */
  created: boolean;
}

/** A step as listed: its row without `output`, `spec` and `result`. Times are ISO-8601 strings. */
export interface StepSummary {
  id: string;
  agentId: string;
  kind: StepKind;
  status: StepStatus;
  image: string | null;
  imageId: string | null;
  command: StepCommand;
  runId: string | null;
  taskId: string | null;
  chatSessionId: string | null;
  labels: Record<string, string>;
  priority: number | null;
  /** Times the step was started, including the current run. */
  attempts: number;
  maxAttempts: number;
  workerId: string | null;
  exitCode: number | null;
  oomKilled: boolean;
  /** Bytes the step printed, which may exceed what `output` kept. */
  outputBytes: number;
  outputTruncated: boolean;
  error: string | null;
  errorCode: string | null;
  cancelRequestedAt: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  updatedAt: string;
}

/** A whole step (`GET /v1/steps/{id}`). */
export interface StepRecord extends StepSummary {
  /** Captured output, capped and redacted. */
  output: string;
  /** The StepSpec as stored, without file contents. */
  spec: Record<string, unknown>;
  /** What the step's runtime reported as its result, if anything. */
  result: unknown;
}

/** Filters of `listSteps`; all given filters must hold. */
export interface StepListFilter {
  status?: StepStatus;
  agentId?: string;
  runId?: string;
  /** One label, as `{ key, value }` or `'key:value'`. */
  label?: { key: string; value: string } | string;
  /** Only steps created strictly after this instant. */
  createdAfter?: Date | string;
  /** Only steps created strictly before this instant. */
  createdBefore?: Date | string;
  /** Page size, 1 to 500. @defaultValue 50 */
  limit?: number;
  /** `nextCursor` of the previous page. */
  cursor?: string;
}

/** One page of steps, newest first. */
export interface StepPage {
  items: StepSummary[];
  /** Pass as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

/** `POST /v1/steps/{id}/cancel` answer. */
export interface CancelResult {
  stepId: string;
  /** Status after the request: `cancelled` when it took effect at once (a queued step). */
  status: StepStatus;
  /** False when the step had already ended. */
  accepted: boolean;
}

/** `GET /readyz` answer. */
export interface Readiness {
  status: 'ok';
  checks: { redis: 'ok' | 'unreachable'; postgres: 'ok' | 'unreachable' };
}
