import { ApiConfig, ConfigError, type Env, loadEnv, parseConfig } from '@sandfleet/config';
import { createLogger } from '@sandfleet/logging';
import { startApi } from './start-api.js';

/**
 * Runs the API until SIGTERM/SIGINT, then closes it (open event streams end, connections close).
 * Config problems are listed on stderr with exit code 2; other start-up failures exit 1.
 */
export async function runApiProcess(env: Env): Promise<void> {
  let config: ApiConfig;
  try {
    config = parseConfig(ApiConfig, loadEnv({ env })) as ApiConfig;
  } catch (error) {
    process.stderr.write(`sandfleet api: ${(error as Error).message}\n`);
    process.exitCode = 2;
    return;
  }
  const logger = createLogger({
    name: 'api',
    level: config.logLevel,
    secrets: config.apiTokens,
    redactPaths: ['apiTokens', '*.apiTokens'],
  });
  let api: Awaited<ReturnType<typeof startApi>>;
  try {
    api = await startApi(config, logger);
  } catch (error) {
    // A config problem is the operator's to fix (exit 2); anything else (port in use…) exits 1.
    if (error instanceof ConfigError) {
      process.stderr.write(`sandfleet api: ${error.message}\n`);
      process.exitCode = 2;
    } else {
      logger.fatal({ err: error }, 'API failed to start');
      process.exitCode = 1;
    }
    return;
  }
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    api.close().then(
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
