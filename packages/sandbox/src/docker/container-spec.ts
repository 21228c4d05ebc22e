import { randomBytes, randomUUID } from 'node:crypto';
import { DEFAULT_TEAM, LABELS, RUNTIME_ENV, STEP_ENV_FILE } from '@sandfleet/contracts';
import type Docker from 'dockerode';
import {
  AGENT_HOME,
  INPUT_FILE_PATH,
  MAX_INPUT_ENV_BYTES,
  RUNTIME_DIR,
  type SandboxRunRequest,
  type SandboxSharedVault,
  SHARED_VAULT_PATH,
} from '../sandbox.js';
import type { DockerSandboxConfig } from './docker-sandbox-options.js';
import { VOLUME_INSTANCE_LABEL } from './vault-preparations.js';

const MIB = 1024 * 1024;

export interface ContainerSpecInput {
  request: SandboxRunRequest;
  config: DockerSandboxConfig;
  /** Resolved image id: the container runs exactly the image that was inspected. */
  imageId: string;
  /** The image's configured user; empty keeps the engine's default (root). */
  imageUser: string;
  /** `none`, or the id of the agents network. */
  networkMode: string;
  /**
   * The image runs the agent runtime (labelled `sandfleet.runtime`): its entrypoint starts as
   * root with only {@link AGENT_RUNTIME_CAPS} and the runtime variables as Env.
   */
  agentRuntime?: boolean;
  /**
   * {@link VOLUME_INSTANCE_LABEL} values for the home and the shared vault, should this create
   * make them; random for each create (see {@link newVolumeInstances}).
   */
  volumeInstances: { home: string; shared: string };
}

/** Fresh instance labels for the volumes a create may make. */
export function newVolumeInstances(): { home: string; shared: string } {
  return { home: randomUUID(), shared: randomUUID() };
}

/**
 * Capabilities the agent runtime keeps (as root, every other one dropped): `SETUID`/`SETGID` to
 * run the step and its own git as uid 1000 with no supplementary groups, `KILL` to relay stop
 * signals to the step and to kill every uid-1000 process (`kill(-1)`) after it. None is left to
 * the step: a switch to a non-zero uid clears them, and no-new-privileges stays on.
 */
export const AGENT_RUNTIME_CAPS = ['SETUID', 'SETGID', 'KILL'];

/** Contract labels of a step's container; extra labels never override them. */
export function containerLabels(request: SandboxRunRequest): Record<string, string> {
  return {
    ...request.labels,
    [LABELS.managed]: 'true',
    [LABELS.stepId]: request.stepId,
    [LABELS.agentId]: request.agentId,
    [LABELS.workerId]: request.workerId,
    [LABELS.attempt]: String(request.attempt),
  };
}

/** Name of an agent's persistent home volume. */
export function homeVolumeName(
  config: Pick<DockerSandboxConfig, 'homeVolumePrefix'>,
  agentId: string,
): string {
  return config.homeVolumePrefix + agentId;
}

/** The shared vault of a run, its default filled in: team `shared`, read-only. */
export function runSharedVault(request: SandboxRunRequest): SandboxSharedVault {
  return request.sharedVault ?? { team: DEFAULT_TEAM, writable: false };
}

/** Volume of a team's shared vault: the configured one for team `shared`, else prefix + team. */
export function teamVaultVolumeName(
  config: Pick<DockerSandboxConfig, 'sharedVaultVolume' | 'teamVaultVolumePrefix'>,
  team: string,
): string {
  return team === DEFAULT_TEAM ? config.sharedVaultVolume : config.teamVaultVolumePrefix + team;
}

/** `sandfleet-<stepId>-<attempt>-<random4>`: readable, and unique across retries and races. */
export function containerName(request: SandboxRunRequest): string {
  return `sandfleet-${request.stepId}-${request.attempt}-${randomBytes(2).toString('hex')}`;
}

/** The step's own environment: the request's, plus the input variables. */
export function stepEnv(request: SandboxRunRequest): Record<string, string> {
  const env: Record<string, string> = { ...request.env };
  if (request.input !== undefined) {
    env.SANDFLEET_INPUT_FILE = INPUT_FILE_PATH;
    if (Buffer.byteLength(request.input, 'utf8') <= MAX_INPUT_ENV_BYTES) env.SANDFLEET_INPUT = request.input;
    else delete env.SANDFLEET_INPUT;
  }
  return env;
}

/**
 * Environment of the container. In an agent-runtime image only the runtime variables (the step's
 * environment is in the root-only {@link STEP_ENV_FILE}, which they name); otherwise the step's
 * environment and the runtime variables.
 */
export function containerEnv(request: SandboxRunRequest, agentRuntime = false): string[] {
  const env: Record<string, string> = agentRuntime
    ? { ...request.runtimeEnv, [RUNTIME_ENV.stepEnvFile]: `${RUNTIME_DIR}/${STEP_ENV_FILE}` }
    : { ...stepEnv(request), ...request.runtimeEnv };
  return Object.entries(env).map(([name, value]) => `${name}=${value}`);
}

/**
 * The hardened create body of a step's container: all capabilities dropped, no-new-privileges,
 * not privileged, no host paths, memory without swap, CPU and pid limits, an init process that
 * forwards signals and reaps zombies, no log driver (output is taken from the attach stream, so
 * it is not written to the host's disk as well), and only the agent's home and its team's shared
 * vault (read-only unless the request makes it writable) mounted.
 */
export function containerSpec(input: ContainerSpecInput): Docker.ContainerCreateOptions {
  const { request, config } = input;
  const { memoryMb, cpus, pids } = request.limits;
  const vault = runSharedVault(request);
  return {
    name: containerName(request),
    Image: input.imageId,
    Cmd: request.argv,
    Env: containerEnv(request, input.agentRuntime),
    ...(input.agentRuntime ? { User: '0:0' } : input.imageUser ? { User: input.imageUser } : {}),
    Labels: containerLabels(request),
    Tty: false,
    OpenStdin: false,
    AttachStdin: false,
    AttachStdout: true,
    AttachStderr: true,
    HostConfig: {
      Memory: memoryMb * MIB,
      MemorySwap: memoryMb * MIB,
      NanoCpus: Math.round(cpus * 1e9),
      PidsLimit: pids,
      CapDrop: ['ALL'],
      ...(input.agentRuntime ? { CapAdd: AGENT_RUNTIME_CAPS } : {}),
      SecurityOpt: ['no-new-privileges'],
      Privileged: false,
      ReadonlyRootfs: request.limits.diskMb !== undefined,
      ...(request.limits.diskMb === undefined ? {} : { Tmpfs: scratchTmpfs(request.limits.diskMb) }),
      Init: true,
      AutoRemove: false,
      RestartPolicy: { Name: 'no' },
      NetworkMode: input.networkMode,
      LogConfig: { Type: 'none', Config: {} },
      Mounts: [
        volumeMount(homeVolumeName(config, request.agentId), AGENT_HOME, {
          [LABELS.managed]: 'true',
          [LABELS.agentId]: request.agentId,
          [VOLUME_INSTANCE_LABEL]: input.volumeInstances.home,
        }),
        volumeMount(
          teamVaultVolumeName(config, vault.team),
          SHARED_VAULT_PATH,
          { [LABELS.managed]: 'true', [VOLUME_INSTANCE_LABEL]: input.volumeInstances.shared },
          !vault.writable,
        ),
        ...(request.limits.diskMb === undefined ? [] : [runtimeDirMount()]),
      ],
    },
  };
}

/** Directories that stay writable on a read-only root filesystem, as tmpfs. */
export const SCRATCH_DIRS = ['/tmp', '/var/tmp', '/run'] as const;

/**
 * One tmpfs of `diskMb` per scratch directory. Their pages are charged to the container's memory
 * cgroup, so together they never hold more than `memoryMb` (past it the step is OOM-killed) and
 * never touch the host's disk. `exec` keeps what the writable root allowed (tools that run
 * what they unpack in /tmp); the engine's default would be `noexec`.
 */
function scratchTmpfs(diskMb: number): Record<string, string> {
  const options = (mode: string) => `rw,exec,nosuid,nodev,size=${diskMb}m,mode=${mode}`;
  return Object.fromEntries(SCRATCH_DIRS.map((dir) => [dir, options(dir === '/run' ? '755' : '1777')]));
}

/**
 * An anonymous volume at {@link RUNTIME_DIR}, removed with the container: the input and runtime
 * files are uploaded there before start, which neither a read-only root filesystem nor a tmpfs
 * (mounted only at start) allows. The directory is root's, so a non-root step cannot fill it.
 */
function runtimeDirMount(): Docker.MountSettings {
  return { Type: 'volume', Target: RUNTIME_DIR, ReadOnly: false } as Docker.MountSettings;
}

/**
 * A named volume the engine creates (with these labels) when it does not exist yet, copying the
 * image's content at `target` into it, so a fresh home is owned by the image's user.
 */
function volumeMount(
  name: string,
  target: string,
  labels: Record<string, string>,
  readOnly = false,
): Docker.MountSettings {
  // No DriverConfig (the typings wrongly require it): an operator may have created the volume
  // with another driver (NFS, …), and naming `local` here would then fail the create.
  const VolumeOptions = { NoCopy: false, Labels: labels } as unknown as Docker.MountSettings['VolumeOptions'];
  return { Type: 'volume', Source: name, Target: target, ReadOnly: readOnly, VolumeOptions };
}
