import * as z from 'zod';
import { StepKind } from '../step-spec.js';
import { StepStatus } from '../step-status.js';

/** An instant as the API serves it: ISO-8601 with milliseconds, UTC (`Date.toJSON()`). */
const Instant = z.iso.datetime({ offset: true });

/**
 * A command as stored: an argv array, or a script with its shell (the default filled in). Looser
 * than {@link StepCommand}: a served row is read, not validated again.
 */
const CommandView = z.union([z.array(z.string()), z.object({ script: z.string(), shell: z.string() })]);

/**
 * A step as listed (`GET /v1/steps`): its row without the potentially large `output`, `spec`
 * and `result`, so a page of 500 stays small. Field names are a public contract (docs/design.md).
 */
export const StepSummaryView = z.object({
  id: z.string(),
  agentId: z.string(),
  kind: StepKind,
  status: StepStatus,
  image: z.string().nullable(),
  /** The image's content id the step ran with, once known. */
  imageId: z.string().nullable(),
  command: CommandView.meta({ description: 'argv array or { script, shell }' }),
  runId: z.string().nullable(),
  taskId: z.string().nullable(),
  chatSessionId: z.string().nullable(),
  labels: z.record(z.string(), z.string()),
  priority: z.int().nullable(),
  /** Times the step was started, including the current run. */
  attempts: z.int(),
  maxAttempts: z.int(),
  workerId: z.string().nullable(),
  exitCode: z.int().nullable(),
  oomKilled: z.boolean(),
  /** Bytes the step printed, which may exceed what `output` kept. */
  outputBytes: z.int().meta({ description: 'bytes printed, including what the limit dropped' }),
  outputTruncated: z.boolean(),
  error: z.string().nullable(),
  errorCode: z.string().nullable(),
  cancelRequestedAt: Instant.nullable(),
  createdAt: Instant,
  startedAt: Instant.nullable(),
  finishedAt: Instant.nullable(),
  durationMs: z.int().nullable(),
  updatedAt: Instant,
  /** Name of the API token that enqueued it; null for raw-BullMQ producers (and older rows). */
  producer: z.string().nullable(),
});
export type StepSummaryView = z.infer<typeof StepSummaryView>;

/** A whole step (`GET /v1/steps/{id}`). */
export const StepView = StepSummaryView.extend({
  /** Captured output, capped and redacted. */
  output: z.string().meta({ description: 'captured output, capped and redacted' }),
  /** The StepSpec as stored, without file contents. */
  spec: z
    .record(z.string(), z.unknown())
    .meta({ description: 'the StepSpec as stored (file contents left out)' }),
  /** What the step's runtime reported as its result, if anything (null when nothing). */
  result: z.unknown().meta({ description: 'what the step runtime reported, if anything' }),
});
export type StepView = z.infer<typeof StepView>;

/** Fields of a step that are instants: ISO-8601 strings on the wire, Dates in the database layer. */
export const STEP_INSTANT_FIELDS = [
  'cancelRequestedAt',
  'createdAt',
  'startedAt',
  'finishedAt',
  'updatedAt',
] as const satisfies readonly (keyof StepSummaryView)[];
export type StepInstantField = (typeof STEP_INSTANT_FIELDS)[number];

/** `T` with its {@link StepInstantField}s as Dates (null kept where the field is nullable). */
export type WithStepDates<T extends StepSummaryView> = {
  [K in keyof T]: K extends StepInstantField ? Date | Extract<T[K], null> : T[K];
};
