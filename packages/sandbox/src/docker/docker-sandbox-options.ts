import { DEFAULT_FLEET_NAMES, type FleetNames } from '@sandfleet/contracts';

/** Options of {@link createDockerSandbox}. Packages never read the environment: pass everything here. */
export interface DockerSandboxOptions {
  /**
   * Names of the fleet this sandbox runs steps of: the volume and network names below default to
   * its `<prefix>-…` names, so fleets on one engine share no home, vault or proxy.
   * @defaultValue the default fleet's (`sandfleet-home-<agentId>`, `sandfleet-vault-shared`, …)
   */
  names?: FleetNames;
  /** Unix socket of the Docker engine. @defaultValue '/var/run/docker.sock' (unless `host` is set) */
  socketPath?: string;
  /** TCP host of the Docker engine, instead of the socket. */
  host?: string;
  /** TCP port with `host`. @defaultValue 2375 */
  port?: number;
  /** Engine calls (create, start, remove, archive upload) in flight at once, so the daemon is not stampeded. @defaultValue 4 */
  dockerCallConcurrency?: number;
  /**
   * Name prefix of the networks of steps with `network: 'egress'`: each such step gets its own
   * internal network `<prefix>-<random>` with the fleet's egress proxy on it. @defaultValue `names.agentsNetwork` ('sandfleet-agents')
   */
  agentsNetwork?: string;
  /** The fleet's egress proxy, the only way out of an `egress` step. */
  egress?: EgressOptions;
  /** Prefix of per-agent home volumes (`<prefix><agentId>`). @defaultValue `names.homeVolumePrefix` ('sandfleet-home-') */
  homeVolumePrefix?: string;
  /** Shared vault volume of the default team (`shared`), mounted at `/home/agent/vault/shared`. @defaultValue `names.sharedVaultVolume` ('sandfleet-vault-shared') */
  sharedVaultVolume?: string;
  /** Prefix of every other team's shared vault volume (`<prefix><team>`). @defaultValue `names.teamVaultVolumePrefix` ('sandfleet-vault-') */
  teamVaultVolumePrefix?: string;
  /** How to get a missing image, for the `IMAGE_NOT_FOUND` message. */
  imageBuildHint?: (image: string) => string;
  /** After the container exits, how long output may stall before the rest is given up, ms. @defaultValue 10000 */
  outputDrainIdleMs?: number;
  /**
   * How long a run whose engine connection broke (or a step arriving while the engine is down)
   * waits for the engine to answer again before the attempt fails as retryable, ms.
   * @defaultValue 60000
   */
  daemonReturnMs?: number;
  /** Between the watchdog's inspections of a running container, ms. @defaultValue 5000 */
  watchdogIntervalMs?: number;
  /**
   * Host directory of size-limited homes: with it, runs with `limits.diskMb` get their home and
   * the shared vault as loop-mounted ext4 images of that size (root and mount rights needed).
   * Without it, homes are plain volumes that no disk limit covers. @defaultValue undefined
   */
  disksDir?: string;
  /** Size of the shared vault's filesystem with `disksDir`, MiB; grown, never shrunk. @defaultValue 1024 */
  sharedVaultDiskMb?: number;
  /**
   * Warm containers kept at most (one per agent): after a run of an agent-runtime image with
   * network `none` starts, a container for that agent's next run with the same settings is
   * pre-started, its runtime waiting on stdin; `warm()` makes one on request. 0 keeps none.
   * @defaultValue 0
   */
  warmPoolSize?: number;
  /** A warm container not used within this is removed, ms. @defaultValue 60000 */
  warmIdleTtlMs?: number;
}

/** Options of the egress proxy; see `infra/images/egress-proxy` and the sandbox README. */
export interface EgressOptions {
  /** Image of the proxy (must be present locally). @defaultValue 'sandfleet/egress-proxy:latest' */
  image?: string;
  /** Container name of the proxy, one per fleet and engine. @defaultValue the fleet's `egressProxy` ('sandfleet-egress-proxy') */
  container?: string;
  /** The proxy's outbound bridge network. @defaultValue the fleet's `egressNetwork` ('sandfleet-egress') */
  network?: string;
  /** IPv4 pool (/8 to /28) the /28 subnets of step networks are cut from. @defaultValue '10.213.0.0/16' */
  subnetPool?: string;
  /** Destinations opened despite the denials: CIDR, `ip:port` or `host:port`. @defaultValue [] */
  allow?: readonly string[];
  /** CIDRs denied besides the built-in private, shared, link-local, multicast and host ranges. @defaultValue [] */
  denyCidrs?: readonly string[];
  /** When not empty, the only domains steps may reach (`.example.com`: it and its subdomains). @defaultValue [] */
  allowedDomains?: readonly string[];
}

export const DEFAULT_EGRESS_PROXY_IMAGE = 'sandfleet/egress-proxy:latest';
/** The default fleet's egress proxy container; another fleet's is `<prefix>-egress-proxy`. */
export const DEFAULT_EGRESS_PROXY_CONTAINER = DEFAULT_FLEET_NAMES.egressProxy;
/** The default fleet's egress network; another fleet's is `<prefix>-egress`. */
export const DEFAULT_EGRESS_NETWORK = DEFAULT_FLEET_NAMES.egressNetwork;
export const DEFAULT_EGRESS_SUBNET_POOL = '10.213.0.0/16';

export const DEFAULT_SOCKET_PATH = '/var/run/docker.sock';
export const DEFAULT_DOCKER_CALL_CONCURRENCY = 4;
/** The default fleet's agents network prefix; another fleet's is `<prefix>-agents`. */
export const DEFAULT_AGENTS_NETWORK = DEFAULT_FLEET_NAMES.agentsNetwork;
/** The default fleet's home volume prefix; another fleet's is `<prefix>-home-`. */
export const DEFAULT_HOME_VOLUME_PREFIX = DEFAULT_FLEET_NAMES.homeVolumePrefix;
/** The default fleet's shared vault volume; another fleet's is `<prefix>-vault-shared`. */
export const DEFAULT_SHARED_VAULT_VOLUME = DEFAULT_FLEET_NAMES.sharedVaultVolume;
export const DEFAULT_OUTPUT_DRAIN_IDLE_MS = 10_000;
export const DEFAULT_DAEMON_RETURN_MS = 60_000;
export const DEFAULT_WATCHDOG_INTERVAL_MS = 5000;
export const DEFAULT_SHARED_VAULT_DISK_MB = 1024;
export const DEFAULT_WARM_IDLE_TTL_MS = 60_000;
export const DEFAULT_IMAGE_BUILD_HINT = (_image: string) =>
  'run infra/setup.sh or infra/images/build-images.sh';

/** {@link DockerSandboxOptions} with defaults applied. */
export type DockerSandboxConfig = Pick<DockerSandboxOptions, 'disksDir'> &
  Required<
    Pick<
      DockerSandboxOptions,
      | 'dockerCallConcurrency'
      | 'agentsNetwork'
      | 'homeVolumePrefix'
      | 'sharedVaultVolume'
      | 'teamVaultVolumePrefix'
      | 'imageBuildHint'
      | 'outputDrainIdleMs'
      | 'daemonReturnMs'
      | 'watchdogIntervalMs'
      | 'sharedVaultDiskMb'
      | 'warmPoolSize'
      | 'warmIdleTtlMs'
    >
  >;

export function dockerSandboxConfig(options: DockerSandboxOptions): DockerSandboxConfig {
  const names = options.names ?? DEFAULT_FLEET_NAMES;
  return Object.freeze({
    dockerCallConcurrency: options.dockerCallConcurrency ?? DEFAULT_DOCKER_CALL_CONCURRENCY,
    agentsNetwork: options.agentsNetwork ?? names.agentsNetwork,
    homeVolumePrefix: options.homeVolumePrefix ?? names.homeVolumePrefix,
    sharedVaultVolume: options.sharedVaultVolume ?? names.sharedVaultVolume,
    teamVaultVolumePrefix: options.teamVaultVolumePrefix ?? names.teamVaultVolumePrefix,
    imageBuildHint: options.imageBuildHint ?? DEFAULT_IMAGE_BUILD_HINT,
    outputDrainIdleMs: options.outputDrainIdleMs ?? DEFAULT_OUTPUT_DRAIN_IDLE_MS,
    daemonReturnMs: options.daemonReturnMs ?? DEFAULT_DAEMON_RETURN_MS,
    watchdogIntervalMs: options.watchdogIntervalMs ?? DEFAULT_WATCHDOG_INTERVAL_MS,
    sharedVaultDiskMb: options.sharedVaultDiskMb ?? DEFAULT_SHARED_VAULT_DISK_MB,
    warmPoolSize: options.warmPoolSize ?? 0,
    warmIdleTtlMs: options.warmIdleTtlMs ?? DEFAULT_WARM_IDLE_TTL_MS,
    ...(options.disksDir === undefined ? {} : { disksDir: options.disksDir }),
  });
}

/** {@link EgressOptions} with defaults applied. */
export type EgressConfig = Readonly<Required<EgressOptions>>;

export function egressConfig(options: EgressOptions = {}, names = DEFAULT_FLEET_NAMES): EgressConfig {
  return Object.freeze({
    image: options.image ?? DEFAULT_EGRESS_PROXY_IMAGE,
    container: options.container ?? names.egressProxy,
    network: options.network ?? names.egressNetwork,
    subnetPool: options.subnetPool ?? DEFAULT_EGRESS_SUBNET_POOL,
    allow: options.allow ?? [],
    denyCidrs: options.denyCidrs ?? [],
    allowedDomains: options.allowedDomains ?? [],
  });
}
