import type { StepCommand, StepKind, StepStatus } from '@sandfleet/contracts';
import type { StepRow } from './database.js';
import type { StoredStepSpec } from './stored-step-spec.js';

/**
 * A step as listed: every column of `steps` except the potentially large ones (`output`, `spec`,
 * `result`), so a page of 500 steps stays small. Timestamps are Dates.
 */
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
  /** Times the step was started (`markRunning`), including the current run. */
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
  cancelRequestedAt: Date | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  durationMs: number | null;
  updatedAt: Date;
}

/** A whole row of `steps`, camelCased. */
export interface StepRecord extends StepSummary {
  /** Captured output, as capped by the worker. */
  output: string;
  /** The spec without file contents. */
  spec: StoredStepSpec;
  /** What the step's runtime reported as its result, if anything. */
  result: unknown;
}

/** Columns of a {@link StepSummary}, in SQL names. */
export const STEP_SUMMARY_COLUMNS = [
  'id',
  'agent_id',
  'kind',
  'status',
  'image',
  'image_id',
  'command',
  'run_id',
  'task_id',
  'chat_session_id',
  'labels',
  'priority',
  'attempts',
  'max_attempts',
  'worker_id',
  'exit_code',
  'oom_killed',
  'output_bytes',
  'output_truncated',
  'error',
  'error_code',
  'cancel_requested_at',
  'created_at',
  'started_at',
  'finished_at',
  'duration_ms',
  'updated_at',
] as const satisfies readonly (keyof StepRow)[];

export type StepSummaryRow = Pick<StepRow, (typeof STEP_SUMMARY_COLUMNS)[number]>;

/** Maps summary columns to a {@link StepSummary}. */
export function toStepSummary(row: StepSummaryRow): StepSummary {
  return {
    id: row.id,
    agentId: row.agent_id,
    kind: row.kind,
    status: row.status,
    image: row.image,
    imageId: row.image_id,
    command: row.command,
    runId: row.run_id,
    taskId: row.task_id,
    chatSessionId: row.chat_session_id,
    labels: row.labels,
    priority: row.priority,
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    workerId: row.worker_id,
    exitCode: row.exit_code,
    oomKilled: row.oom_killed,
    outputBytes: row.output_bytes,
    outputTruncated: row.output_truncated,
    error: row.error,
    errorCode: row.error_code,
    cancelRequestedAt: row.cancel_requested_at,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    durationMs: row.duration_ms,
    updatedAt: row.updated_at,
  };
}

/** Maps a whole `steps` row to a {@link StepRecord}. */
export function toStepRecord(row: StepRow): StepRecord {
  return { ...toStepSummary(row), output: row.output, spec: row.spec, result: row.result };
}
