import { randomBytes } from 'node:crypto';
import { LABELS } from '@sandfleet/contracts';
import Docker from 'dockerode';
import { expect } from 'vitest';
import {
  createDockerSandbox,
  type DockerSandboxOptions,
  type Sandbox,
  type SandboxRunHooks,
  type SandboxRunRequest,
} from '../src/index.js';

export const TEST_IMAGE = 'sandfleet/test-busybox:latest';
/** A non-root Debian image whose home has no vault skeleton (infra/images/Dockerfile.step). */
export const STEP_IMAGE = 'sandfleet/step:latest';
export const HOME_PREFIX = 'sandfleet-test-home-';

/** A raw engine client, to check what the sandbox did independently of it. */
export const docker = new Docker({ socketPath: '/var/run/docker.sock' });

const suffix = () => randomBytes(4).toString('hex');

/**
 * Everything one test owns: random worker and agent ids, its own shared vault volume and agents
 * network, and a sandbox bound to them. `cleanUp` closes the sandbox, asserts that no container of
 * the test's workers is left, and deletes the test's volumes and network.
 */
export class TestBed {
  readonly id = suffix();
  readonly workerId = `test-worker-${this.id}`;
  readonly sharedVaultVolume = `sandfleet-test-vault-${this.id}`;
  /** Other teams' vaults are `<this><team>`. */
  readonly teamVaultVolumePrefix = `sandfleet-test-vault-${this.id}-`;
  readonly agentsNetwork = `sandfleet-test-net-${this.id}`;
  readonly startedAt = Date.now();
  private readonly workerIds = new Set([this.workerId]);
  private readonly agentIds = new Set<string>();
  private readonly teams = new Set<string>();
  private readonly sandboxes: Sandbox[] = [];
  readonly sandbox: Sandbox;

  constructor(options: DockerSandboxOptions = {}) {
    this.sandbox = this.newSandbox(options);
  }

  newSandbox(options: DockerSandboxOptions = {}): Sandbox {
    const sandbox = createDockerSandbox({
      homeVolumePrefix: HOME_PREFIX,
      sharedVaultVolume: this.sharedVaultVolume,
      teamVaultVolumePrefix: this.teamVaultVolumePrefix,
      agentsNetwork: this.agentsNetwork,
      ...options,
    });
    this.sandboxes.push(sandbox);
    return sandbox;
  }

  agentId(name = 'agent'): string {
    const agentId = `${name}-${this.id}`;
    this.agentIds.add(agentId);
    return agentId;
  }

  /** A team of this test (its vault volume is removed by `cleanUp`). */
  team(name: string): string {
    const team = `${name}-${this.id}`;
    this.teams.add(team);
    return team;
  }

  otherWorkerId(name: string): string {
    const workerId = `test-${name}-${this.id}`;
    this.workerIds.add(workerId);
    return workerId;
  }

  request(overrides: Partial<SandboxRunRequest> = {}): SandboxRunRequest {
    return {
      stepId: `step-${suffix()}`,
      agentId: overrides.agentId ?? this.agentId(),
      workerId: this.workerId,
      attempt: 1,
      image: TEST_IMAGE,
      argv: ['true'],
      env: {},
      files: [],
      limits: { timeoutMs: 20_000, memoryMb: 64, cpus: 1, pids: 64 },
      network: 'none',
      ...overrides,
    };
  }

  /** Number of containers created for this test's worker since the test began (from engine events). */
  containersCreated(): Promise<number> {
    return this.containerEvents('create');
  }

  /**
   * Number of engine events of one kind on this test's worker's containers since the test began:
   * `create`, or `extract-to-dir` (an archive uploaded into a container).
   */
  async containerEvents(event: 'create' | 'extract-to-dir'): Promise<number> {
    const now = Date.now();
    const stamp = (ms: number) => `${Math.floor(ms / 1000)}.${String((ms % 1000) * 1e6).padStart(9, '0')}`;
    const events = await docker.getEvents({
      since: stamp(this.startedAt - 1000) as unknown as number,
      until: stamp(now) as unknown as number,
      filters: { type: ['container'], event: [event], label: [`${LABELS.workerId}=${this.workerId}`] },
    });
    let text = '';
    for await (const chunk of events as AsyncIterable<Buffer>) text += chunk.toString();
    return text.split('\n').filter((line) => line.trim() !== '').length;
  }

  async cleanUp(): Promise<void> {
    await Promise.all(this.sandboxes.map((sandbox) => sandbox.close()));
    // Label filters of one call are ANDed: ask per worker.
    const left = (
      await Promise.all(
        [...this.workerIds].map((id) =>
          docker.listContainers({ all: true, filters: { label: [`${LABELS.workerId}=${id}`] } }),
        ),
      )
    ).flat();
    await Promise.all(
      left.map((c) =>
        docker
          .getContainer(c.Id)
          .remove({ force: true })
          .catch(() => undefined),
      ),
    );
    const volumes = [...this.agentIds]
      .map((id) => HOME_PREFIX + id)
      .concat(this.sharedVaultVolume, ...[...this.teams].map((team) => this.teamVaultVolumePrefix + team));
    await Promise.all(
      volumes.map((name) =>
        docker
          .getVolume(name)
          .remove()
          .catch(() => undefined),
      ),
    );
    const networks = await docker.listNetworks({ filters: { name: [this.agentsNetwork] } });
    await Promise.all(
      networks.map((n) =>
        docker
          .getNetwork(n.Id)
          .remove()
          .catch(() => undefined),
      ),
    );
    expect(left.map((c) => c.Names)).toEqual([]);
  }
}

/** Output hooks that record every chunk with its stream. */
export function recordOutput(extra: Partial<SandboxRunHooks> = {}) {
  const chunks: { stream: 'stdout' | 'stderr'; text: string }[] = [];
  const hooks: SandboxRunHooks = {
    onOutput: (stream, chunk) => {
      chunks.push({ stream, text: chunk.toString('utf8') });
    },
    ...extra,
  };
  return {
    hooks,
    chunks,
    text: (stream: 'stdout' | 'stderr') =>
      chunks
        .filter((c) => c.stream === stream)
        .map((c) => c.text)
        .join(''),
  };
}

/** Resolves with the first output chunk; for acting on a running container without sleeping. */
export function firstOutput(): { hooks: Pick<SandboxRunHooks, 'onOutput'>; seen: Promise<void> } {
  let resolve = () => {};
  const seen = new Promise<void>((r) => {
    resolve = r;
  });
  return { hooks: { onOutput: () => resolve() }, seen };
}
