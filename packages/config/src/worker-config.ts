import { hostname } from 'node:os';
import { ID_PATTERN, IMAGE_PATTERN, LIMIT_BOUNDS } from '@sandfleet/contracts';
import type { z } from 'zod';
import { commonVars } from './common-config.js';
import { type EnvValues, envSchema } from './env-schema.js';
import { boolVar, intVar, listVar, numberVar, optionalVar, stringVar } from './env-vars.js';
import { DEFAULT_IMAGE_ALLOWLIST, IMAGE_GLOB_PATTERN, isImageAllowed } from './image-allowlist.js';
import type { DeepReadonly } from './parse-config.js';

/** Default worker id: unique per process on a host, stable for its life. */
export const defaultWorkerId = (): string => `${hostname()}-${process.pid}`;

const { timeoutMs, memoryMb, cpus, pids, outputBytes, diskMb } = LIMIT_BOUNDS;
const ms = (min: number, defaultValue: number) => intVar(defaultValue, { min });

const DOCKER_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const DOCKER_NAME_MESSAGE =
  "must be a Docker name: 1 to 128 letters, digits, '_', '.' or '-', starting with a letter or digit";
const IPV4_POOL = /^(\d{1,3}\.){3}\d{1,3}\/([89]|1\d|2[0-8])$/;
const CIDR = /^((\d{1,3}\.){3}\d{1,3}(\/\d{1,2})?|[0-9a-fA-F:]+:[0-9a-fA-F:]*(\/\d{1,3})?)$/;
const DOMAIN = /^\.?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/;
const EGRESS_DESTINATION = new RegExp(`${CIDR.source}|^[A-Za-z0-9.-]+:\\d{1,5}$`);

/** Variables of the worker (besides {@link commonVars}), by name. */
export const workerVars = {
  /** Id in container labels, heartbeats and logs; must be unique among live workers. @defaultValue `<hostname>-<pid>` */
  SANDFLEET_WORKER_ID: stringVar(defaultWorkerId, ID_PATTERN),
  /** Steps this worker runs at once. @defaultValue 4 */
  SANDFLEET_WORKER_CONCURRENCY: intVar(4, { min: 1 }),
  /** Docker Engine API socket path. @defaultValue `/var/run/docker.sock` */
  SANDFLEET_DOCKER_SOCKET: stringVar('/var/run/docker.sock'),
  /** Docker API calls in flight at once (create, archive, start, remove…). @defaultValue 4 */
  SANDFLEET_DOCKER_CONCURRENCY: intVar(4, { min: 1 }),
  /**
   * Name prefix of the networks of `egress` steps: each gets its own internal network
   * `<prefix>-<random>`, with no host address, shared only with the egress proxy.
   * @defaultValue the fleet's: `<SANDFLEET_QUEUE_PREFIX>-agents` (`sandfleet-agents`)
   */
  SANDFLEET_AGENTS_NETWORK: optionalVar(DOCKER_NAME, DOCKER_NAME_MESSAGE),
  /** Image of the egress proxy (Squid), present locally. @defaultValue `sandfleet/egress-proxy:latest` */
  SANDFLEET_EGRESS_PROXY_IMAGE: stringVar(
    'sandfleet/egress-proxy:latest',
    IMAGE_PATTERN,
    'must be a Docker image reference',
  ),
  /** Container name of the fleet's egress proxy, one per fleet and engine; found or created by the workers. @defaultValue `<SANDFLEET_QUEUE_PREFIX>-egress-proxy` (`sandfleet-egress-proxy`) */
  SANDFLEET_EGRESS_PROXY: optionalVar(DOCKER_NAME, DOCKER_NAME_MESSAGE),
  /** The egress proxy's own outbound bridge network. @defaultValue `<SANDFLEET_QUEUE_PREFIX>-egress` (`sandfleet-egress`) */
  SANDFLEET_EGRESS_NETWORK: optionalVar(DOCKER_NAME, DOCKER_NAME_MESSAGE),
  /**
   * What agents' home volume names start with (`<this><agentId>`), to keep names other than the
   * fleet's, e.g. `sandfleet-home-` for a fleet that had homes before they carried its prefix.
   * @defaultValue `<SANDFLEET_QUEUE_PREFIX>-home-` (`sandfleet-home-`)
   */
  SANDFLEET_HOME_VOLUME_PREFIX: optionalVar(DOCKER_NAME, DOCKER_NAME_MESSAGE),
  /** Volume of the team's shared vault. @defaultValue `<SANDFLEET_QUEUE_PREFIX>-vault-shared` (`sandfleet-vault-shared`) */
  SANDFLEET_SHARED_VAULT_VOLUME: optionalVar(DOCKER_NAME, DOCKER_NAME_MESSAGE),
  /** IPv4 pool (/8 to /28) the /28 subnets of step networks are cut from; keep it off your LAN's ranges. @defaultValue `10.213.0.0/16` */
  SANDFLEET_EGRESS_SUBNET_POOL: stringVar('10.213.0.0/16', IPV4_POOL, 'must be an IPv4 CIDR from /8 to /28'),
  /**
   * Comma-separated destinations steps may reach although the proxy denies their range: a CIDR,
   * `ip:port` or `host:port` (a service of this machine, a private mirror). @defaultValue none
   */
  SANDFLEET_EGRESS_ALLOW: listVar(
    () => [],
    EGRESS_DESTINATION,
    'must be a comma-separated list of CIDRs, ip:port or host:port',
  ),
  /**
   * Comma-separated CIDRs the proxy denies besides private, shared, link-local, multicast and
   * reserved ranges, Docker's networks and its own gateway: list the host's public addresses here. @defaultValue none
   */
  SANDFLEET_EGRESS_DENY_CIDRS: listVar(() => [], CIDR, 'must be a comma-separated list of CIDRs'),
  /** Comma-separated domains, the only ones steps may reach when set (`.example.com`: it and its subdomains). @defaultValue any */
  SANDFLEET_EGRESS_ALLOWED_DOMAINS: listVar(() => [], DOMAIN, 'must be a comma-separated list of domains'),
  /** One step at a time per agent across the fleet, so steps never share a home volume at once. @defaultValue true */
  SANDFLEET_SERIALIZE_AGENT_STEPS: boolVar(true),
  /** How long a step whose agent is busy waits before it is tried again, ms. @defaultValue 1000 */
  SANDFLEET_AGENT_BUSY_RETRY_MS: intVar(1000, { min: 10 }),
  /** Image of steps that name none; must be allowed by the allowlist. @defaultValue `sandfleet/step:latest` */
  SANDFLEET_DEFAULT_IMAGE: stringVar(
    'sandfleet/step:latest',
    IMAGE_PATTERN,
    'must be a Docker image reference',
  ),
  /** Comma-separated image patterns steps may use; `*` matches any run of characters. */
  SANDFLEET_IMAGE_ALLOWLIST: listVar(
    () => [...DEFAULT_IMAGE_ALLOWLIST],
    IMAGE_GLOB_PATTERN,
    'must be a comma-separated list of image patterns (letters, digits, ._/:@- and *)',
  ),
  /** Timeout of steps that set none, ms. @defaultValue 600000 (10 min) */
  SANDFLEET_DEFAULT_TIMEOUT_MS: intVar(600_000, timeoutMs),
  /** Largest timeout a step may ask for, ms. @defaultValue 3600000 (1 h) */
  SANDFLEET_MAX_TIMEOUT_MS: intVar(3_600_000, timeoutMs),
  /** Memory limit of steps that set none, MiB. @defaultValue 512 */
  SANDFLEET_DEFAULT_MEMORY_MB: intVar(512, memoryMb),
  /** Largest memory limit a step may ask for, MiB. @defaultValue 4096 */
  SANDFLEET_MAX_MEMORY_MB: intVar(4096, memoryMb),
  /** CPU share of steps that set none, cores. @defaultValue 1 */
  SANDFLEET_DEFAULT_CPUS: numberVar(1, cpus),
  /** Largest CPU share a step may ask for, cores. @defaultValue 2 */
  SANDFLEET_MAX_CPUS: numberVar(2, cpus),
  /** Process limit of steps that set none. @defaultValue 256 */
  SANDFLEET_DEFAULT_PIDS: intVar(256, pids),
  /** Largest process limit a step may ask for. @defaultValue 4096 */
  SANDFLEET_MAX_PIDS: intVar(4096, pids),
  /** Output kept of steps that set no limit, bytes. @defaultValue 1048576 (1 MiB) */
  SANDFLEET_DEFAULT_OUTPUT_BYTES: intVar(1_048_576, outputBytes),
  /** Largest output limit a step may ask for, bytes. @defaultValue 16777216 (16 MiB) */
  SANDFLEET_MAX_OUTPUT_BYTES: intVar(16_777_216, outputBytes),
  /** Disk of steps that set none, MiB: size of the home's filesystem and of each tmpfs (`/tmp`, `/var/tmp`, `/run`). @defaultValue 1024 */
  SANDFLEET_DEFAULT_DISK_MB: intVar(1024, diskMb),
  /** Largest disk limit a step may ask for, MiB; an agent's home never grows past it. @defaultValue 8192 */
  SANDFLEET_MAX_DISK_MB: intVar(8192, diskMb),
  /** Size of the shared vault's filesystem with `SANDFLEET_DISKS_DIR`, MiB; grown, never shrunk. @defaultValue 1024 */
  SANDFLEET_SHARED_VAULT_DISK_MB: intVar(1024, diskMb),
  /**
   * Host directory of the size-limited homes: one ext4 image per agent (and one for the shared
   * vault), loop-mounted by the worker, which then needs root and mount rights on the Docker host.
   * `off` keeps plain home volumes that the disk limit does not cover (a worker in a container
   * without mount rights; see the sandbox README). @defaultValue `/var/lib/sandfleet/disks`
   */
  SANDFLEET_DISKS_DIR: stringVar(
    '/var/lib/sandfleet/disks',
    /^(\/.*|off)$/,
    'must be an absolute path or off',
  ),
  /**
   * Warm containers the worker keeps at most, one per agent: after a step of an agent-runtime
   * image (network `none`) starts, a container for that agent's next step is pre-started with
   * its home mounted, the runtime waiting on stdin; `POST /v1/agents/{agentId}/warm` asks for one.
   * Each holds its memory limit like a running step. 0 turns the pool off. @defaultValue 4
   */
  SANDFLEET_WARM_POOL_SIZE: intVar(4, { min: 0, max: 256 }),
  /** A warm container not used within this is removed, ms. @defaultValue 60000 */
  SANDFLEET_WARM_POOL_IDLE_MS: ms(1000, 60_000),
  /** Time a stopped container gets between SIGTERM and SIGKILL, ms. @defaultValue 5000 */
  SANDFLEET_STOP_GRACE_MS: ms(0, 5000),
  /** On SIGTERM, time running steps get to finish before they are stopped and handed back, ms. @defaultValue 30000 */
  SANDFLEET_DRAIN_GRACE_MS: ms(0, 30_000),
  /** Interval of the worker's heartbeat, ms. @defaultValue 5000 */
  SANDFLEET_HEARTBEAT_MS: ms(100, 5000),
  /** Interval of the sweep for containers left by dead workers, ms. @defaultValue 15000 */
  SANDFLEET_REAPER_INTERVAL_MS: ms(100, 15_000),
  /** Interval of the reconciler, which queues again steps whose job Redis lost, ms. @defaultValue 30000 */
  SANDFLEET_RECONCILE_INTERVAL_MS: ms(100, 30_000),
  /** A queued or running step is checked by the reconciler once its row is this old, ms. @defaultValue 60000 */
  SANDFLEET_RECONCILE_AFTER_MS: ms(100, 60_000),
  /** BullMQ job lock; a dead worker's job is retried after about this long, ms. @defaultValue 30000 */
  SANDFLEET_LOCK_DURATION_MS: ms(100, 30_000),
  /** Interval of BullMQ's check for stalled jobs, ms. @defaultValue 15000 */
  SANDFLEET_STALLED_INTERVAL_MS: ms(100, 15_000),
  /** Times a step's worker may die under it (BullMQ stall) before the step ends in error. @defaultValue 2 */
  SANDFLEET_MAX_STALLED_COUNT: intVar(2, { min: 0, max: 100 }),
  /**
   * Largest raw job data (serialized JSON) the worker parses, bytes; a job past it ends `error`
   * (`JOB_DATA_REJECTED`) unparsed. Above the API's body limit, so only raw-BullMQ jobs meet it.
   * @defaultValue 16777216 (16 MiB)
   */
  SANDFLEET_MAX_JOB_DATA_BYTES: intVar(16 * 1024 * 1024, { min: 1024 * 1024, max: 1024 ** 3 }),
  /** Deepest nesting of objects and arrays in job data the worker parses. @defaultValue 64 */
  SANDFLEET_MAX_JOB_DATA_DEPTH: intVar(64, { min: 8, max: 1000 }),
  /** Directory of files named after secrets, each holding the value; unset = no such source. */
  SANDFLEET_SECRETS_DIR: optionalVar(),
  /** Port of the worker's Prometheus `/metrics`; 0 turns it off. @defaultValue 0 */
  SANDFLEET_METRICS_PORT: intVar(0, { min: 0, max: 65_535 }),
};

type WorkerValues = EnvValues<typeof commonVars & typeof workerVars>;

const LIMIT_PAIRS = [
  ['SANDFLEET_DEFAULT_TIMEOUT_MS', 'SANDFLEET_MAX_TIMEOUT_MS'],
  ['SANDFLEET_DEFAULT_MEMORY_MB', 'SANDFLEET_MAX_MEMORY_MB'],
  ['SANDFLEET_DEFAULT_CPUS', 'SANDFLEET_MAX_CPUS'],
  ['SANDFLEET_DEFAULT_PIDS', 'SANDFLEET_MAX_PIDS'],
  ['SANDFLEET_DEFAULT_OUTPUT_BYTES', 'SANDFLEET_MAX_OUTPUT_BYTES'],
  ['SANDFLEET_DEFAULT_DISK_MB', 'SANDFLEET_MAX_DISK_MB'],
] as const satisfies readonly (readonly [keyof WorkerValues, keyof WorkerValues])[];

function checkWorker(values: WorkerValues, ctx: z.RefinementCtx): void {
  // A variable that failed to parse holds no number; its own problem is already listed.
  for (const [name, maxName] of LIMIT_PAIRS) {
    const value = values[name];
    const max = values[maxName];
    if (typeof value === 'number' && typeof max === 'number' && value > max) {
      ctx.addIssue({ code: 'custom', path: [name], message: `must be ≤ ${maxName} (${max})` });
    }
  }
  const image = values.SANDFLEET_DEFAULT_IMAGE;
  const allowlist = values.SANDFLEET_IMAGE_ALLOWLIST;
  if (typeof image === 'string' && Array.isArray(allowlist) && !isImageAllowed(image, allowlist)) {
    ctx.addIssue({
      code: 'custom',
      path: ['SANDFLEET_DEFAULT_IMAGE'],
      message: 'must be allowed by SANDFLEET_IMAGE_ALLOWLIST',
    });
  }
}

/**
 * Config of the worker: {@link CommonConfig} plus identity, concurrency, Docker, images, step
 * limit defaults and maxima, timings and the secrets directory. Fields are the variables in
 * camelCase without `SANDFLEET_` (`workerConcurrency`, `maxTimeoutMs`, `secretsDir`, …).
 * Secret values are not part of it: see `secretsFromEnv`.
 */
export const WorkerConfig = envSchema({ ...commonVars, ...workerVars }, checkWorker);
/** What `parseConfig(WorkerConfig, env)` returns: deeply read-only. */
export type WorkerConfig = DeepReadonly<z.output<typeof WorkerConfig>>;
