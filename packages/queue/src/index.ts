export * from './agent-locks.js';
export * from './errors.js';
export * from './queue-names.js';
export * from './redis-connection.js';
export * from './redis-durability.js';
export * from './step-queue.js';
export * from './step-worker.js';
export * from './worker-registry.js';
