import { ApiConfig, type Env, loadEnv, parseConfig } from '@sandfleet/config';
import { createLogger } from '@sandfleet/logging';
import { configOrExit, runUntilSignal } from '@sandfleet/process';
import { startApi } from './start-api.js';

/**
 * How long the API may take to close after SIGTERM, ms: open event streams end and connections
 * close in well under a second; this leaves room for in-flight requests, below the pod's 30 s.
 */
export const API_STOP_DEADLINE_MS = 10_000;

/**
 * Runs the API until SIGTERM/SIGINT, then closes it (open event streams end, connections close);
 * see `runUntilSignal` of `@sandfleet/process` for the exit codes. Config problems are listed on
 * stderr with exit code 2.
 */
export async function runApiProcess(env: Env): Promise<void> {
  const config = configOrExit('api', () => parseConfig(ApiConfig, loadEnv({ env })) as ApiConfig);
  if (!config) return;
  const logger = createLogger({
    name: 'api',
    level: config.logLevel,
    secrets: config.apiTokens,
    redactPaths: ['apiTokens', '*.apiTokens'],
  });
  await runUntilSignal({ logger, start: () => startApi(config, logger), deadlineMs: API_STOP_DEADLINE_MS });
}
