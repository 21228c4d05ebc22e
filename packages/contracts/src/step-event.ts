import * as z from 'zod';
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

/**
 * One request of an `egress` step through the fleet's egress proxy, as the proxy logged it when
 * the request ended: allowed or denied, where to, and how many bytes each way.
 */
export const EgressEvent = z.object({
  ...EventBase,
  type: z.literal('egress'),
  attempt: z.int().min(1),
  /** False when the proxy refused the request. */
  allowed: z.boolean(),
  /** `CONNECT` for a tunnel (HTTPS), else the HTTP method. */
  method: z.string(),
  host: z.string(),
  port: z.int().nullable(),
  /** HTTP status the proxy answered; 0 when none. */
  httpStatus: z.int(),
  /** The proxy's result code, e.g. `TCP_TUNNEL`, `TCP_MISS`, `TCP_DENIED`. */
  result: z.string(),
  bytesSent: z.int().min(0),
  bytesReceived: z.int().min(0),
  /** When the proxy logged it, ISO-8601. */
  loggedAt: z.string(),
});
export type EgressEvent = z.infer<typeof EgressEvent>;

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
  EgressEvent,
  FinishedEvent,
]);
export type StepEvent = z.infer<typeof StepEvent>;

type WithoutBase<T> = T extends unknown ? Omit<T, 'stepId' | 'seq' | 'ts'> : never;
/** An event before the publisher stamps `stepId`, `seq` and `ts`. */
export type StepEventBody = WithoutBase<StepEvent>;
