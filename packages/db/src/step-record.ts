import type { StepSummaryView, StepView, WithStepDates } from '@sandfleet/contracts';
import type { StepRow } from './database.js';
import type { StoredStepSpec } from './stored-step-spec.js';

/**
 * A step as listed: the contract's {@link StepSummaryView} (every column of `steps` except the
 * potentially large `output`, `spec` and `result`, so a page of 500 steps stays small), with
 * Dates where the wire has ISO-8601 strings. `JSON.stringify` of one is the view.
 */
export type StepSummary = WithStepDates<StepSummaryView>;

/** A whole row of `steps`, camelCased: the contract's {@link StepView} with Dates and the stored spec. */
export type StepRecord = Omit<WithStepDates<StepView>, 'spec' | 'result'> & {
  /** The spec without file contents. */
  spec: StoredStepSpec;
  /** What the step's runtime reported as its result; null when nothing. */
  result: unknown;
};

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
  'producer',
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
    producer: row.producer,
  };
}

/** Maps a whole `steps` row to a {@link StepRecord}. */
export function toStepRecord(row: StepRow): StepRecord {
  return { ...toStepSummary(row), output: row.output, spec: row.spec, result: row.result };
}
