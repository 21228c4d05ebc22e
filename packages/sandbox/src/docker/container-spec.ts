import { randomBytes, randomUUID } from 'node:crypto';
import {
  DEFAULT_TEAM,
  LABELS,
  RUNTIME_ENV,
  RUNTIME_GATE_ARG,
  type RuntimeGateFile,
  type RuntimeGateMessage,
  STEP_ENV_FILE,
} from '@sandfleet/contracts';
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
  /**
   * Set for a warm container (agent-runtime images only), its {@link WARM_LABEL}: made before any
   * step is given to it, so it carries none: its runtime starts with {@link RUNTIME_GATE_ARG} and
   * waits on stdin for the step, its Env is the image's and its agent's id, and its labels name
   * no step.
   */
  warmId?: string;
}

/** Label of a warm container (a random id); it has no step id or attempt label, ever. */
export const WARM_LABEL = 'sandfleet.warm';

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

/** Contract labels of a step's container (of a warm one: no step); extra labels never override them. */
export function containerLabels(request: SandboxRunRequest, warmId?: string): Record<string, string> {
  const owner = {
    ...request.labels,
    [LABELS.managed]: 'true',
    [LABELS.agentId]: request.agentId,
    [LABELS.workerId]: request.workerId,
  };
  if (warmId !== undefined) return { ...owner, [WARM_LABEL]: warmId };
  return { ...owner, [LABELS.stepId]: request.stepId, [LABELS.attempt]: String(request.attempt) };
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

/**
 * `sandfleet-<stepId>-<attempt>-<random4>` (`sandfleet-warm-<agentId>-<random4>` for a warm
 * container): readable, and unique across retries and races.
 */
export function containerName(request: SandboxRunRequest, warm = false): string {
  const suffix = randomBytes(2).toString('hex');
  return warm
    ? `sandfleet-warm-${request.agentId}-${suffix}`
    : `sandfleet-${request.stepId}-${request.attempt}-${suffix}`;
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
    ? runtimeOnlyEnv(request)
    : { ...stepEnv(request), ...request.runtimeEnv };
  return Object.entries(env).map(([name, value]) => `${name}=${value}`);
}

/** The agent runtime's variables: the request's `runtimeEnv` and where the step's environment is. */
function runtimeOnlyEnv(request: SandboxRunRequest): Record<string, string> {
  return { ...request.runtimeEnv, [RUNTIME_ENV.stepEnvFile]: `${RUNTIME_DIR}/${STEP_ENV_FILE}` };
}

/**
 * What a warm container's gate receives for a run: what a cold agent-runtime container gets as
 * `Cmd`, `Env` and uploaded runtime files (private ones root-only, the step's environment among
 * them, the input readable).
 */
export function gateMessage(request: SandboxRunRequest): RuntimeGateMessage {
  const files: RuntimeGateFile[] = (request.runtimeFiles ?? []).map((file) => ({
    name: file.name,
    content: file.content,
    private: file.private === true,
  }));
  files.push({ name: STEP_ENV_FILE, content: JSON.stringify(stepEnv(request)), private: true });
  if (request.input !== undefined)
    files.push({ name: INPUT_FILE_NAME, content: request.input, private: false });
  return { argv: request.argv, env: runtimeOnlyEnv(request), files };
}

/** The input file's name under {@link RUNTIME_DIR}. */
const INPUT_FILE_NAME = INPUT_FILE_PATH.slice(RUNTIME_DIR.length + 1);

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
  const warmId = input.agentRuntime === true ? input.warmId : undefined;
  const warm = warmId !== undefined;
  return {
    name: containerName(request, warm),
    Image: input.imageId,
    Cmd: warm ? [RUNTIME_GATE_ARG] : request.argv,
    // A warm container knows its agent alone: its runtime lays out that agent's home ahead.
    Env: warm ? [`${RUNTIME_ENV.agentId}=${request.agentId}`] : containerEnv(request, input.agentRuntime),
    ...(input.agentRuntime ? { User: '0:0' } : input.imageUser ? { User: input.imageUser } : {}),
    Labels: containerLabels(request, warmId),
    Tty: false,
    // A warm container's stdin is its gate: open until the worker has written the step to it.
    OpenStdin: warm,
    StdinOnce: warm,
    AttachStdin: warm,
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
