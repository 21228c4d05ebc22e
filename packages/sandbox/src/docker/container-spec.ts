import { randomBytes, randomUUID } from 'node:crypto';
import { LABELS } from '@sandfleet/contracts';
import type Docker from 'dockerode';
import {
  AGENT_HOME,
  INPUT_FILE_PATH,
  MAX_INPUT_ENV_BYTES,
  type SandboxRunRequest,
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
}

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

/** `sandfleet-<stepId>-<attempt>-<random4>`: readable, and unique across retries and races. */
export function containerName(request: SandboxRunRequest): string {
  return `sandfleet-${request.stepId}-${request.attempt}-${randomBytes(2).toString('hex')}`;
}

/** Environment of the container: the request's, plus the input variables. */
export function containerEnv(request: SandboxRunRequest): string[] {
  const env: Record<string, string> = { ...request.env };
  if (request.input !== undefined) {
    env.SANDFLEET_INPUT_FILE = INPUT_FILE_PATH;
    if (Buffer.byteLength(request.input, 'utf8') <= MAX_INPUT_ENV_BYTES) env.SANDFLEET_INPUT = request.input;
    else delete env.SANDFLEET_INPUT;
  }
  return Object.entries(env).map(([name, value]) => `${name}=${value}`);
}

/**
 * The hardened create body of a step's container: all capabilities dropped, no-new-privileges,
 * not privileged, no host paths, memory without swap, CPU and pid limits, an init process that
 * forwards signals and reaps zombies, no log driver (output is taken from the attach stream, so
 * it is not written to the host's disk as well), and only the agent's home and the shared vault
 * mounted.
 */
export function containerSpec(input: ContainerSpecInput): Docker.ContainerCreateOptions {
  const { request, config } = input;
  const { memoryMb, cpus, pids } = request.limits;
  return {
    name: containerName(request),
    Image: input.imageId,
    Cmd: request.argv,
    Env: containerEnv(request),
    ...(input.imageUser ? { User: input.imageUser } : {}),
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
      SecurityOpt: ['no-new-privileges'],
      Privileged: false,
      ReadonlyRootfs: false,
      Init: true,
      AutoRemove: false,
      RestartPolicy: { Name: 'no' },
      NetworkMode: input.networkMode,
      LogConfig: { Type: 'none', Config: {} },
      Mounts: [
        volumeMount(homeVolumeName(config, request.agentId), AGENT_HOME, {
          [LABELS.managed]: 'true',
          [LABELS.agentId]: request.agentId,
        }),
        volumeMount(config.sharedVaultVolume, SHARED_VAULT_PATH, { [LABELS.managed]: 'true' }),
      ],
    },
  };
}

/**
 * A named volume the engine creates (with these labels) when it does not exist yet, copying the
 * image's content at `target` into it, so a fresh home is owned by the image's user.
 */
function volumeMount(name: string, target: string, labels: Record<string, string>): Docker.MountSettings {
  const Labels = { ...labels, [VOLUME_INSTANCE_LABEL]: randomUUID() };
  // No DriverConfig (the typings wrongly require it): an operator may have created the volume
  // with another driver (NFS, …), and naming `local` here would then fail the create.
  const VolumeOptions = { NoCopy: false, Labels } as unknown as Docker.MountSettings['VolumeOptions'];
  return { Type: 'volume', Source: name, Target: target, ReadOnly: false, VolumeOptions };
}
