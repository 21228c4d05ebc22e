import { type Env, loadEnv, parseConfig, secretsFromEnv, WorkerConfig } from '@sandfleet/config';
import { createLogger } from '@sandfleet/logging';
import { startWorker } from './start-worker.js';

/**
 * Runs a worker until SIGTERM/SIGINT, then drains. Config problems are listed and exit code 2.
 */
export async function runWorkerProcess(env: Env): Promise<void> {
  const merged = loadEnv({ env });
  let config: WorkerConfig;
  let secrets: Record<string, string>;
  try {
    config = parseConfig(WorkerConfig, merged) as WorkerConfig;
    secrets = secretsFromEnv(merged);
  } catch (error) {
    process.stderr.write(`sandfleet worker: ${(error as Error).message}\n`);
    process.exitCode = 2;
    return;
  }
  const logger = createLogger({ name: 'worker', level: config.logLevel, secrets: Object.values(secrets) });
  const worker = await startWorker(config, secrets, logger.child({ workerId: config.workerId }));
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    worker.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
