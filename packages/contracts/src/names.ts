/** BullMQ queue name of steps (public contract). */
export const QUEUE_NAME = 'steps';
/** BullMQ key prefix: keys are `sandfleet:steps:*` (public contract). */
export const QUEUE_PREFIX = 'sandfleet';
/** BullMQ job name of a step (public contract). */
export const JOB_NAME = 'step';

/**
 * Builds every Redis key and channel name Sandfleet uses: `sandfleet:<part>:<part>…`.
 * Ids reaching here are validated against `ID_PATTERN`.
 */
export function redisKey(...parts: string[]): string {
  return [QUEUE_PREFIX, ...parts].join(':');
}

/** Pub/sub channel and replay stream of a step's events (both `sandfleet:events:{stepId}`). */
export const eventsKey = (stepId: string) => redisKey('events', stepId);
/** Which attempt of a step may publish its events, and whether it has finished (internal). */
export const fenceKey = (stepId: string) => redisKey('fence', stepId);
/** Pub/sub channel on which cancel requests nudge the worker running the step. */
export const cancelChannel = () => redisKey('cancel');
/** Heartbeat key of a live worker; expires when the worker stops renewing it. */
export const workerKey = (workerId: string) => redisKey('workers', workerId);

/** Labels every Sandfleet container and volume carries (public contract). */
export const LABELS = {
  managed: 'sandfleet.managed',
  stepId: 'sandfleet.step-id',
  agentId: 'sandfleet.agent-id',
  workerId: 'sandfleet.worker-id',
  attempt: 'sandfleet.attempt',
  /** The fleet (queue) a container belongs to: a worker reaps only its own fleet's orphans. */
  fleet: 'sandfleet.fleet',
} as const;
