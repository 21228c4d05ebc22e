export { type AgentLease, AgentLocks, type AgentLocksOptions } from './agent-locks.js';
export { DeferError, HandBackError, QueueError, type QueueErrorCode } from './errors.js';
export { DEFAULT_JOB_DATA_BOUNDS, type JobDataBounds, jobDataProblem } from './job-data-bounds.js';
export { type QueueLocation, resolveQueueLocation } from './queue-names.js';
export { createRedisConnection, type RedisConnectionOptions } from './redis-connection.js';
export { DURABLE_REDIS_SETTINGS, type RedisDurability, redisDurability } from './redis-durability.js';
export {
  type EnqueueManyOptions,
  type EnqueueManyResult,
  type EnqueueResult,
  type StepJobState,
  StepQueue,
  type StepQueueOptions,
  type StepStoreForEnqueue,
} from './step-queue.js';
export { type StepDelivery, type StepHandler, StepWorker, type StepWorkerOptions } from './step-worker.js';
export { WorkerRegistry, type WorkerRegistryOptions } from './worker-registry.js';
