import * as z from 'zod';

/** Published on the cancel channel: the worker running `stepId` stops it. */
export const CancelMessage = z.object({ stepId: z.string() });
export type CancelMessage = z.infer<typeof CancelMessage>;

/** Value of a worker's heartbeat key. */
export const WorkerHeartbeat = z.object({
  workerId: z.string(),
  hostname: z.string(),
  pid: z.int(),
  startedAt: z.string(),
  concurrency: z.int(),
});
export type WorkerHeartbeat = z.infer<typeof WorkerHeartbeat>;

/** The short summary a step job returns to BullMQ. */
export const StepJobResult = z.object({
  stepId: z.string(),
  status: z.string(),
  exitCode: z.int().nullable(),
  durationMs: z.number(),
});
export type StepJobResult = z.infer<typeof StepJobResult>;
