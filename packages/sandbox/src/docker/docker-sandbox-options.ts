/** Options of {@link createDockerSandbox}. Packages never read the environment: pass everything here. */
export interface DockerSandboxOptions {
  /** Unix socket of the Docker engine. @defaultValue '/var/run/docker.sock' (unless `host` is set) */
  socketPath?: string;
  /** TCP host of the Docker engine, instead of the socket. */
  host?: string;
  /** TCP port with `host`. @defaultValue 2375 */
  port?: number;
  /** Engine calls (create, start, remove, archive upload) in flight at once, so the daemon is not stampeded. @defaultValue 4 */
  dockerCallConcurrency?: number;
  /** Bridge network of steps with `network: 'egress'`; created on demand. @defaultValue 'sandfleet-agents' */
  agentsNetwork?: string;
  /** Prefix of per-agent home volumes (`<prefix><agentId>`). @defaultValue 'sandfleet-home-' */
  homeVolumePrefix?: string;
  /** Volume of the team's shared vault, mounted at `/home/agent/vault/shared`. @defaultValue 'sandfleet-vault-shared' */
  sharedVaultVolume?: string;
  /** How to get a missing image, for the `IMAGE_NOT_FOUND` message. */
  imageBuildHint?: (image: string) => string;
  /** After the container exits, how long output may stall before the rest is given up, ms. @defaultValue 10000 */
  outputDrainIdleMs?: number;
}

export const DEFAULT_SOCKET_PATH = '/var/run/docker.sock';
export const DEFAULT_DOCKER_CALL_CONCURRENCY = 4;
export const DEFAULT_AGENTS_NETWORK = 'sandfleet-agents';
export const DEFAULT_HOME_VOLUME_PREFIX = 'sandfleet-home-';
export const DEFAULT_SHARED_VAULT_VOLUME = 'sandfleet-vault-shared';
export const DEFAULT_OUTPUT_DRAIN_IDLE_MS = 10_000;
export const DEFAULT_IMAGE_BUILD_HINT = (_image: string) =>
  'run infra/setup.sh or infra/images/build-images.sh';

/** {@link DockerSandboxOptions} with defaults applied. */
export type DockerSandboxConfig = Required<
  Pick<
    DockerSandboxOptions,
    | 'dockerCallConcurrency'
    | 'agentsNetwork'
    | 'homeVolumePrefix'
    | 'sharedVaultVolume'
    | 'imageBuildHint'
    | 'outputDrainIdleMs'
  >
>;

export function dockerSandboxConfig(options: DockerSandboxOptions): DockerSandboxConfig {
  return Object.freeze({
    dockerCallConcurrency: options.dockerCallConcurrency ?? DEFAULT_DOCKER_CALL_CONCURRENCY,
    agentsNetwork: options.agentsNetwork ?? DEFAULT_AGENTS_NETWORK,
    homeVolumePrefix: options.homeVolumePrefix ?? DEFAULT_HOME_VOLUME_PREFIX,
    sharedVaultVolume: options.sharedVaultVolume ?? DEFAULT_SHARED_VAULT_VOLUME,
    imageBuildHint: options.imageBuildHint ?? DEFAULT_IMAGE_BUILD_HINT,
    outputDrainIdleMs: options.outputDrainIdleMs ?? DEFAULT_OUTPUT_DRAIN_IDLE_MS,
  });
}
