export * from './run-worker-process.js';
export * from './start-worker.js';
