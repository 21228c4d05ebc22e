export { type AgentLease, AgentLocks, type AgentLocksOptions } from './agent-locks.js';
export { DeferError, HandBackError, QueueError, type QueueErrorCode } from './errors.js';
export { DEFAULT_JOB_DATA_BOUNDS, type JobDataBounds, jobDataProblem } from './job-data-bounds.js';
export { type QueueLocation, resolveQueueLocation, resolveWarmHintQueueLocation } from './queue-names.js';
export { assertReachable, createRedisConnection, type RedisConnectionOptions } from './redis-connection.js';
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
export { DEFAULT_WARM_HINT_DEDUPE_MS, WarmHintQueue, type WarmHintQueueOptions } from './warm-hint-queue.js';
export {
  DEFAULT_WARM_HINT_CONCURRENCY,
  DEFAULT_WARM_HINT_STALE_MS,
  type WarmHintHandler,
  WarmHintWorker,
  type WarmHintWorkerOptions,
} from './warm-hint-worker.js';
export { WorkerRegistry, type WorkerRegistryOptions } from './worker-registry.js';
