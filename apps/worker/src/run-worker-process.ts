import { type Env, loadEnv, parseConfig, secretsFromEnv, WorkerConfig } from '@sandfleet/config';
import { createLogger } from '@sandfleet/logging';
import { configOrExit, runUntilSignal } from '@sandfleet/process';
import { startWorker } from './start-worker.js';

/**
 * Time the worker's close gets on top of the drain and the containers' stop grace, ms: handing
 * the stopped steps back and closing the connections.
 */
const CLOSE_MARGIN_MS = 5000;

/**
 * How long a worker may take to stop after SIGTERM, ms: the drain grace, the stop grace of the
 * containers it then stops, and the close. With the defaults (30 s + 5 s + 5 s) it stays below
 * the 45 s the deployments give the worker before they kill it.
 */
export function workerStopDeadlineMs(config: Pick<WorkerConfig, 'drainGraceMs' | 'stopGraceMs'>): number {
  return config.drainGraceMs + config.stopGraceMs + CLOSE_MARGIN_MS;
}

/**
 * Runs a worker until SIGTERM/SIGINT, then drains; see `runUntilSignal` of `@sandfleet/process`
 * for the exit codes. Config problems are listed on stderr with exit code 2.
 */
export async function runWorkerProcess(env: Env): Promise<void> {
  const parsed = configOrExit('worker', () => {
    const merged = loadEnv({ env });
    return { config: parseConfig(WorkerConfig, merged) as WorkerConfig, secrets: secretsFromEnv(merged) };
  });
  if (!parsed) return;
  const { config, secrets } = parsed;
  const logger = createLogger({ name: 'worker', level: config.logLevel, secrets: Object.values(secrets) });
  await runUntilSignal({
    logger,
    start: () => startWorker(config, secrets, logger.child({ workerId: config.workerId })),
    deadlineMs: workerStopDeadlineMs(config),
  });
}
