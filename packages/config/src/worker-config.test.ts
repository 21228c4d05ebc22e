import { hostname } from 'node:os';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { ConfigError } from './errors.js';
import { parseConfig } from './parse-config.js';
import { WorkerConfig } from './worker-config.js';

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    parseConfig(WorkerConfig, env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).code).toBe('INVALID_CONFIG');
    return (error as ConfigError).problems;
  }
  throw new Error('expected the config to be rejected');
}

describe('WorkerConfig', () => {
  it('applies every documented default to an empty environment', () => {
    expect(parseConfig(WorkerConfig, {})).toEqual({
      redisUrl: 'redis://127.0.0.1:6379',
      databaseUrl: 'postgres://sandfleet:sandfleet@127.0.0.1:5432/sandfleet',
      databaseSchema: 'public',
      logLevel: 'info',
      queuePrefix: 'sandfleet',
      queueName: 'steps',
      workerId: `${hostname()}-${process.pid}`,
      workerConcurrency: 4,
      dockerSocket: '/var/run/docker.sock',
      dockerConcurrency: 4,
      // Unset Docker names come from the fleet's prefix (the sandbox's defaults).
      agentsNetwork: undefined,
      egressProxyImage: 'sandfleet/egress-proxy:latest',
      egressProxy: undefined,
      egressNetwork: undefined,
      homeVolumePrefix: undefined,
      sharedVaultVolume: undefined,
      egressSubnetPool: '10.213.0.0/16',
      egressAllow: [],
      egressDenyCidrs: [],
      egressAllowedDomains: [],
      serializeAgentSteps: true,
      agentBusyRetryMs: 1000,
      defaultImage: 'sandfleet/step:latest',
      imageAllowlist: ['sandfleet/step:*', 'sandfleet/agent-runtime:*', 'sandfleet/test-busybox:*'],
      defaultTimeoutMs: 600_000,
      maxTimeoutMs: 3_600_000,
      defaultMemoryMb: 512,
      maxMemoryMb: 4096,
      defaultCpus: 1,
      maxCpus: 2,
      defaultPids: 256,
      maxPids: 4096,
      defaultOutputBytes: 1_048_576,
      maxOutputBytes: 16_777_216,
      defaultDiskMb: 1024,
      maxDiskMb: 8192,
      sharedVaultDiskMb: 1024,
      disksDir: '/var/lib/sandfleet/disks',
      warmPoolSize: 4,
      warmPoolIdleMs: 60_000,
      stopGraceMs: 5000,
      maxJobDataBytes: 16 * 1024 * 1024,
      maxJobDataDepth: 64,
      drainGraceMs: 30_000,
      heartbeatMs: 5000,
      reaperIntervalMs: 15_000,
      reconcileIntervalMs: 30_000,
      reconcileAfterMs: 60_000,
      lockDurationMs: 30_000,
      stalledIntervalMs: 15_000,
      maxStalledCount: 2,
      metricsPort: 0,
    });
  });

  it('takes values from the environment, parsing numbers and lists', () => {
    const config = parseConfig(WorkerConfig, {
      SANDFLEET_WORKER_ID: 'w-1',
      SANDFLEET_WORKER_CONCURRENCY: '16',
      SANDFLEET_DEFAULT_CPUS: '0.5',
      SANDFLEET_MAX_CPUS: '4',
      SANDFLEET_IMAGE_ALLOWLIST: ' acme/* , , sandfleet/step:*',
      SANDFLEET_DEFAULT_IMAGE: 'acme/agent:2',
      SANDFLEET_SECRETS_DIR: '/run/secrets',
      SANDFLEET_METRICS_PORT: '9464',
      SANDFLEET_QUEUE_PREFIX: 'test-a1b2',
      SANDFLEET_LOG_LEVEL: 'debug',
    });
    expect(config).toMatchObject({
      workerId: 'w-1',
      workerConcurrency: 16,
      defaultCpus: 0.5,
      maxCpus: 4,
      imageAllowlist: ['acme/*', 'sandfleet/step:*'],
      defaultImage: 'acme/agent:2',
      secretsDir: '/run/secrets',
      metricsPort: 9464,
      queuePrefix: 'test-a1b2',
      logLevel: 'debug',
    });
  });

  it('treats an empty variable as unset', () => {
    expect(
      parseConfig(WorkerConfig, { SANDFLEET_WORKER_CONCURRENCY: '', SANDFLEET_SECRETS_DIR: ' ' }),
    ).toMatchObject({
      workerConcurrency: 4,
      secretsDir: undefined,
    });
  });

  it('lists every problem as VARIABLE: message, without the values', () => {
    const problems = problemsOf({
      SANDFLEET_REDIS_URL: 'http://user:hunter2@redis',
      SANDFLEET_LOG_LEVEL: 'loud',
      SANDFLEET_WORKER_CONCURRENCY: '0',
      SANDFLEET_DOCKER_CONCURRENCY: '2.5',
      SANDFLEET_MAX_CPUS: 'two',
      SANDFLEET_MAX_PIDS: '99999999999999999999',
      SANDFLEET_METRICS_PORT: '70000',
      SANDFLEET_WORKER_ID: 'has space',
      SANDFLEET_IMAGE_ALLOWLIST: 'ok/*,bad image',
    });
    expect(problems).toEqual([
      'SANDFLEET_REDIS_URL: must be a redis:// or rediss:// URL',
      'SANDFLEET_LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent',
      'SANDFLEET_WORKER_ID: must match ^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$',
      'SANDFLEET_WORKER_CONCURRENCY: must be an integer ≥ 1',
      'SANDFLEET_DOCKER_CONCURRENCY: must be an integer ≥ 1',
      'SANDFLEET_IMAGE_ALLOWLIST: must be a comma-separated list of image patterns (letters, digits, ._/:@- and *)',
      'SANDFLEET_MAX_CPUS: must be a number between 0.01 and 1024',
      'SANDFLEET_MAX_PIDS: must be an integer between 8 and 1000000',
      'SANDFLEET_METRICS_PORT: must be an integer between 0 and 65535',
    ]);
    expect(problems.join('\n')).not.toContain('hunter2');
  });

  it('rejects a default above its maximum', () => {
    expect(
      problemsOf({
        SANDFLEET_DEFAULT_TIMEOUT_MS: '7200000',
        SANDFLEET_MAX_MEMORY_MB: '256',
        SANDFLEET_DEFAULT_CPUS: '3',
        SANDFLEET_DEFAULT_PIDS: '5000',
        SANDFLEET_MAX_OUTPUT_BYTES: '1024',
      }),
    ).toEqual([
      'SANDFLEET_DEFAULT_TIMEOUT_MS: must be ≤ SANDFLEET_MAX_TIMEOUT_MS (3600000)',
      'SANDFLEET_DEFAULT_MEMORY_MB: must be ≤ SANDFLEET_MAX_MEMORY_MB (256)',
      'SANDFLEET_DEFAULT_CPUS: must be ≤ SANDFLEET_MAX_CPUS (2)',
      'SANDFLEET_DEFAULT_PIDS: must be ≤ SANDFLEET_MAX_PIDS (4096)',
      'SANDFLEET_DEFAULT_OUTPUT_BYTES: must be ≤ SANDFLEET_MAX_OUTPUT_BYTES (1024)',
    ]);
  });

  it('rejects a default image the allowlist does not allow, alongside other problems', () => {
    expect(problemsOf({ SANDFLEET_DEFAULT_IMAGE: 'evil/x:1', SANDFLEET_HEARTBEAT_MS: 'soon' })).toEqual([
      'SANDFLEET_HEARTBEAT_MS: must be an integer ≥ 100',
      'SANDFLEET_DEFAULT_IMAGE: must be allowed by SANDFLEET_IMAGE_ALLOWLIST',
    ]);
  });

  it('leaves secret variables out of the config', () => {
    const config = parseConfig(WorkerConfig, { SANDFLEET_SECRET_GITHUB_TOKEN: 'ghp_abc' });
    expect(JSON.stringify(config)).not.toContain('ghp_abc');
  });

  it('has camelCase fields typed from their variables', () => {
    expectTypeOf(parseConfig(WorkerConfig, {})).toEqualTypeOf<WorkerConfig>();
    expectTypeOf<WorkerConfig['workerConcurrency']>().toEqualTypeOf<number>();
    expectTypeOf<WorkerConfig['secretsDir']>().toEqualTypeOf<string | undefined>();
    expectTypeOf<WorkerConfig['imageAllowlist']>().toEqualTypeOf<readonly string[]>();
    expectTypeOf<WorkerConfig['logLevel']>().toEqualTypeOf<
      'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'
    >();
  });
});
