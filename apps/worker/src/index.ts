export { runWorkerProcess, workerStopDeadlineMs } from './run-worker-process.js';
export { type RunningWorker, type StartWorkerOptions, startWorker } from './start-worker.js';
