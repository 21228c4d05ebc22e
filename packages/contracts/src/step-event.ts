import { z } from 'zod';
import { StepStatus, TerminalStatus } from './step-status.js';

const EventBase = {
  stepId: z.string(),
  /** Starts at 1 and has no gaps per step. */
  seq: z.int().min(1),
  /** ISO-8601 time the event was made. */
  ts: z.string(),
};

/** The step moved to `status` (queued, running, or a terminal status). */
export const StatusEvent = z.object({
  ...EventBase,
  type: z.literal('status'),
  status: StepStatus,
  attempt: z.int().min(1).optional(),
  workerId: z.string().optional(),
  message: z.string().optional(),
});
export type StatusEvent = z.infer<typeof StatusEvent>;

/** Which container stream printed an output chunk. */
export const OutputStream = z.enum(['stdout', 'stderr']);
export type OutputStream = z.infer<typeof OutputStream>;

/** A chunk of what the step printed, as UTF-8 text. */
export const OutputEvent = z.object({
  ...EventBase,
  type: z.literal('output'),
  stream: OutputStream,
  data: z.string(),
});
export type OutputEvent = z.infer<typeof OutputEvent>;

/** The step printed more than its output limit; what follows is dropped. Sent once. */
export const TruncatedEvent = z.object({
  ...EventBase,
  type: z.literal('truncated'),
  limitBytes: z.int(),
});
export type TruncatedEvent = z.infer<typeof TruncatedEvent>;

/** A typed event of the in-container agent runtime (workspace ready, commit, result). */
export const RuntimeEvent = z.object({
  ...EventBase,
  type: z.literal('runtime'),
  name: z.string(),
  data: z.unknown().optional(),
});
export type RuntimeEvent = z.infer<typeof RuntimeEvent>;

/** The step reached a terminal status; the last event of a step. */
export const FinishedEvent = z.object({
  ...EventBase,
  type: z.literal('finished'),
  status: TerminalStatus,
  exitCode: z.int().nullable(),
  error: z.string().optional(),
  oomKilled: z.boolean().optional(),
  durationMs: z.number().optional(),
});
export type FinishedEvent = z.infer<typeof FinishedEvent>;

/** Event JSON on `sandfleet:events:{stepId}` (pub/sub and replay stream). */
export const StepEvent = z.discriminatedUnion('type', [
  StatusEvent,
  OutputEvent,
  TruncatedEvent,
  RuntimeEvent,
  FinishedEvent,
]);
export type StepEvent = z.infer<typeof StepEvent>;

type WithoutBase<T> = T extends unknown ? Omit<T, 'stepId' | 'seq' | 'ts'> : never;
/** An event before the publisher stamps `stepId`, `seq` and `ts`. */
export type StepEventBody = WithoutBase<StepEvent>;
