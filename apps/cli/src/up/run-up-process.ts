import { assertAuthConfig, type RunningApi, startApi } from '@sandfleet/api';
import {
  ApiConfig,
  ConfigError,
  type Env,
  loadEnv,
  parseConfig,
  secretsFromEnv,
  WorkerConfig,
} from '@sandfleet/config';
import { createLogger } from '@sandfleet/logging';
import { type RunningWorker, startWorker } from '@sandfleet/worker';

/** The API's and the worker's configs, from one environment. */
interface UpConfig {
  api: ApiConfig;
  worker: WorkerConfig;
  secrets: Record<string, string>;
}

/** Both configs, or every problem of either (a variable both read is listed once). */
function parseUpConfig(env: Env): UpConfig {
  const problems = new Map<string, { path: string; message: string }>();
  const attempt = <T>(parse: () => T): T | undefined => {
    try {
      return parse();
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      for (const issue of error.issues) problems.set(`${issue.path}: ${issue.message}`, issue);
      return undefined;
    }
  };
  const api = attempt(() => {
    const config = parseConfig(ApiConfig, env) as ApiConfig;
    assertAuthConfig(config);
    return config;
  });
  const worker = attempt(() => parseConfig(WorkerConfig, env) as WorkerConfig);
  const secrets = attempt(() => secretsFromEnv(env));
  if (!api || !worker || !secrets) throw new ConfigError([...problems.values()]);
  return { api, worker, secrets };
}

/**
 * `sandfleet up`: the HTTP API and a worker in ONE process, sharing one `SandfleetMetrics` (so
 * `/metrics` shows both), configured from the same environment. The worker starts first (it checks
 * PostgreSQL and Docker), then the API on its metrics. One SIGTERM/SIGINT handler closes the API
 * (open event streams end), then drains the worker, and exits 0; a second signal exits at once
 * (containers left running are removed by the next worker's orphan sweep).
 * Config problems exit 2, other start-up failures 1.
 */
export async function runUpProcess(env: Env): Promise<void> {
  let config: UpConfig;
  try {
    config = parseUpConfig(loadEnv({ env }));
  } catch (error) {
    process.stderr.write(`sandfleet up: ${(error as Error).message}\n`);
    process.exitCode = 2;
    return;
  }
  const logger = createLogger({
    name: 'sandfleet',
    level: config.worker.logLevel,
    secrets: [...config.api.apiTokens, ...Object.values(config.secrets)],
    redactPaths: ['apiTokens', '*.apiTokens'],
  });
  const workerId = config.worker.workerId;
  let worker: RunningWorker | undefined;
  let api: RunningApi;
  try {
    worker = await startWorker(
      config.worker,
      config.secrets,
      logger.child({ component: 'worker', workerId }),
    );
    api = await startApi(config.api, logger.child({ component: 'api' }), { metrics: worker.metrics });
  } catch (error) {
    logger.fatal({ err: error }, 'sandfleet up failed to start');
    await worker?.close().catch((err: unknown) => logger.error({ err }, 'worker close failed'));
    process.exitCode = error instanceof ConfigError ? 2 : 1;
    return;
  }
  const running = { api, worker };
  logger.info({ url: api.url, workerId }, 'API and worker started');
  process.stderr.write(
    `sandfleet up: API on ${api.url} (Bull Board ${api.url}/admin/queues), worker ${workerId}; ` +
      'SIGTERM or Ctrl-C stops (the worker drains its running steps)\n',
  );

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting without draining');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down: closing the API, then draining the worker');
    (async () => {
      await running.api.close();
      await running.worker.close();
    })().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
