import type { WorkerConfig } from '@sandfleet/config';
import { fleetNames } from '@sandfleet/contracts';
import { createDatabase } from '@sandfleet/db';
import { ImageAllowlist, SecretResolver, WorkerService } from '@sandfleet/engine';
import type { Logger } from '@sandfleet/logging';
import { SandfleetMetrics, serveMetrics } from '@sandfleet/metrics';
import { AgentLocks, createRedisConnection, StepQueue, WorkerRegistry } from '@sandfleet/queue';
import { createDockerSandbox } from '@sandfleet/sandbox';
import { CancelBus, StepEventPublisher } from '@sandfleet/stream';

export interface RunningWorker {
  service: WorkerService;
  /** The worker's metrics (served on `SANDFLEET_METRICS_PORT` when set). */
  metrics: SandfleetMetrics;
  /** `http://…/metrics` when the metrics endpoint is on. */
  metricsUrl?: string;
  /** Drains running steps and closes every connection. Idempotent. */
  close(): Promise<void>;
}

/** Options of {@link startWorker}. */
export interface StartWorkerOptions {
  /**
   * Metrics to record into, e.g. one shared with the API in the same process (`sandfleet up`).
   * @defaultValue a new `SandfleetMetrics` with process metrics
   */
  metrics?: SandfleetMetrics;
}

/** Builds a worker from its config and starts it: wiring only, the logic lives in packages. */
export async function startWorker(
  config: WorkerConfig,
  secrets: Readonly<Record<string, string>>,
  logger: Logger,
  options: StartWorkerOptions = {},
): Promise<RunningWorker> {
  const metrics = options.metrics ?? new SandfleetMetrics({ processMetrics: true });
  // Every Redis and Docker name of the fleet: fleets apart by prefix share no key, volume or proxy.
  const names = fleetNames(config.queuePrefix);
  const db = createDatabase({
    connectionString: config.databaseUrl,
    schema: config.databaseSchema,
    maxConnections: config.workerConcurrency * 2 + 2,
    onError: (err) => logger.warn({ err }, 'database connection error'),
  });
  const redis = createRedisConnection({
    url: config.redisUrl,
    role: 'worker',
    name: `sandfleet-events-${config.workerId}`,
  });
  const cancelBus = new CancelBus({
    redis,
    names,
    onError: (err, stepId) => logger.error({ err, stepId }, 'cancel handler failed'),
  });
  const queue = { prefix: config.queuePrefix, name: config.queueName };
  const producer = new StepQueue({
    ...queue,
    redisUrl: config.redisUrl,
    onError: (err) => logger.warn({ err }, 'reconciler queue connection error'),
  });
  const sandbox = createDockerSandbox({
    names,
    socketPath: config.dockerSocket,
    dockerCallConcurrency: config.dockerConcurrency,
    agentsNetwork: config.agentsNetwork,
    homeVolumePrefix: config.homeVolumePrefix,
    sharedVaultVolume: config.sharedVaultVolume,
    egress: {
      image: config.egressProxyImage,
      container: config.egressProxy,
      network: config.egressNetwork,
      subnetPool: config.egressSubnetPool,
      allow: config.egressAllow,
      denyCidrs: config.egressDenyCidrs,
      allowedDomains: config.egressAllowedDomains,
    },
    ...(config.disksDir === 'off' ? {} : { disksDir: config.disksDir }),
    sharedVaultDiskMb: config.sharedVaultDiskMb,
    warmPoolSize: config.warmPoolSize,
    warmIdleTtlMs: config.warmPoolIdleMs,
  });
  const service = new WorkerService({
    workerId: config.workerId,
    logger,
    redisUrl: config.redisUrl,
    queue,
    concurrency: config.workerConcurrency,
    fleet: `${config.queuePrefix}.${config.queueName}`,
    steps: db.steps,
    chats: db.chats,
    agentLocks: config.serializeAgentSteps
      ? new AgentLocks({ redis, names, ttlMs: config.lockDurationMs })
      : undefined,
    agentBusyRetryMs: config.agentBusyRetryMs,
    sandbox,
    openPublisher: (options) => StepEventPublisher.open({ redis, names, ...options }),
    images: new ImageAllowlist(config.imageAllowlist),
    secrets: new SecretResolver({ values: secrets, directory: config.secretsDir }),
    registry: new WorkerRegistry({
      redis,
      names,
      workerId: config.workerId,
      concurrency: config.workerConcurrency,
      heartbeatMs: config.heartbeatMs,
    }),
    cancelBus,
    defaultImage: config.defaultImage,
    limits: {
      defaults: {
        timeoutMs: config.defaultTimeoutMs,
        memoryMb: config.defaultMemoryMb,
        cpus: config.defaultCpus,
        pids: config.defaultPids,
        outputBytes: config.defaultOutputBytes,
        diskMb: config.defaultDiskMb,
      },
      maxima: {
        timeoutMs: config.maxTimeoutMs,
        memoryMb: config.maxMemoryMb,
        cpus: config.maxCpus,
        pids: config.maxPids,
        outputBytes: config.maxOutputBytes,
        diskMb: config.maxDiskMb,
      },
    },
    stopGraceMs: config.stopGraceMs,
    metrics,
    drainGraceMs: config.drainGraceMs,
    reaperIntervalMs: config.reaperIntervalMs,
    lockDurationMs: config.lockDurationMs,
    stalledIntervalMs: config.stalledIntervalMs,
    maxStalledCount: config.maxStalledCount,
    jobDataBounds: { maxBytes: config.maxJobDataBytes, maxDepth: config.maxJobDataDepth },
    reconciler: {
      queue: producer,
      intervalMs: config.reconcileIntervalMs,
      staleAfterMs: config.reconcileAfterMs,
    },
  });
  await db.ping();
  await sandbox.ping();
  // Bound before the worker takes jobs: a port in use fails start-up, not a running worker.
  const server =
    config.metricsPort > 0 ? await serveMetrics({ metrics, port: config.metricsPort }) : undefined;
  try {
    await service.start();
  } catch (error) {
    await server?.close();
    throw error;
  }
  if (server) logger.info({ url: server.url }, 'metrics served');
  let closed: Promise<void> | undefined;
  return {
    service,
    metrics,
    metricsUrl: server?.url,
    close: () => {
      closed ??= (async () => {
        await service.close();
        await server?.close();
        await cancelBus.close();
        await producer.close();
        await sandbox.close();
        redis.disconnect();
        await db.close();
      })();
      return closed;
    },
  };
}
