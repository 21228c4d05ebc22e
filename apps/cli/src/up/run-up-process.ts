import { API_STOP_DEADLINE_MS, assertAuthConfig, startApi } from '@sandfleet/api';
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
import { configOrExit, runUntilSignal } from '@sandfleet/process';
import { type RunningWorker, startWorker, workerStopDeadlineMs } from '@sandfleet/worker';

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
 * PostgreSQL and Docker), then the API on its metrics. SIGTERM/SIGINT closes the API (open event
 * streams end), then drains the worker, and exits 0; a second signal exits 1 at once (containers
 * left running are removed by the next worker's orphan sweep); see `runUntilSignal` of
 * `@sandfleet/process`. Config problems exit 2, other start-up failures 1.
 */
export async function runUpProcess(env: Env): Promise<void> {
  const config = configOrExit('up', () => parseUpConfig(loadEnv({ env })));
  if (!config) return;
  const logger = createLogger({
    name: 'sandfleet',
    level: config.worker.logLevel,
    secrets: [...config.api.apiTokens, ...Object.values(config.secrets)],
    redactPaths: ['apiTokens', '*.apiTokens'],
  });
  const workerId = config.worker.workerId;
  const start = async () => {
    let worker: RunningWorker | undefined;
    try {
      worker = await startWorker(
        config.worker,
        config.secrets,
        logger.child({ component: 'worker', workerId }),
      );
      const api = await startApi(config.api, logger.child({ component: 'api' }), { metrics: worker.metrics });
      const running = worker;
      return {
        url: api.url,
        close: async () => {
          await api.close();
          await running.close();
        },
      };
    } catch (error) {
      await worker?.close().catch((err: unknown) => logger.error({ err }, 'worker close failed'));
      throw error;
    }
  };
  const running = await runUntilSignal({
    logger,
    start,
    deadlineMs: API_STOP_DEADLINE_MS + workerStopDeadlineMs(config.worker),
  });
  if (!running) return;
  logger.info({ url: running.url, workerId }, 'API and worker started');
  process.stderr.write(
    `sandfleet up: API on ${running.url} (Bull Board ${running.url}/admin/queues), worker ${workerId}; ` +
      'SIGTERM or Ctrl-C stops (the worker drains its running steps)\n',
  );
}
