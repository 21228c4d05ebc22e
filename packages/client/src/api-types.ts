import type {
  CancelResultView,
  EnqueueResultView,
  ReadinessView,
  StepBatchItemResult,
  StepListPage,
  StepStatus,
  StepSummaryView,
  StepView,
  WarmHintAcceptedView,
} from '@sandfleet/contracts';

// The answers' types are the contracts' HTTP schemas (`@sandfleet/contracts`), which the client
// parses every answer with; the names here are the client's own, kept for its callers.

/** `POST /v1/steps` answer. */
export type CreateStepResult = EnqueueResultView;

/** `POST /v1/steps/batch` answer: one result per spec, in order (`{ id, created }` or `{ error }`). */
export type CreateStepsResult = StepBatchItemResult[];

/** A step as listed: its row without `output`, `spec` and `result`. Times are ISO-8601 strings. */
export type StepSummary = StepSummaryView;

/** A whole step (`GET /v1/steps/{id}`). */
export type StepRecord = StepView;

/** One page of steps, newest first; `nextCursor` is null on the last page. */
export type StepPage = StepListPage;

/** `POST /v1/steps/{id}/cancel` answer. */
export type CancelResult = CancelResultView;

/** `POST /v1/agents/{agentId}/warm` answer. */
export type WarmAgentResult = WarmHintAcceptedView;

/** `GET /readyz` answer. */
export type Readiness = ReadinessView;

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
