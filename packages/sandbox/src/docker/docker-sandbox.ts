import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEFAULT_TEAM, type ErrorContext, LABELS, TEAM_PATTERN } from '@sandfleet/contracts';
import Docker from 'dockerode';
import pLimit, { type LimitFunction } from 'p-limit';
import { SandboxError } from '../errors.js';
import { assertValidRunRequest } from '../run-request.js';
import type {
  Sandbox,
  SandboxContainer,
  SandboxRunHooks,
  SandboxRunRequest,
  SandboxRunResult,
  SandboxWarmOutcome,
  SandboxWarmRequest,
} from '../sandbox.js';
import { AgentsNetwork, egressProxyEnv } from './agents-network.js';
import { ContainerRun } from './container-run.js';
import { homeVolumeName, teamVaultVolumeName, WARM_LABEL } from './container-spec.js';
import { DockerAgent } from './docker-agent.js';
import { DockerDaemon } from './docker-daemon.js';
import { dockerStatus, toSandboxError } from './docker-errors.js';
import {
  DEFAULT_SOCKET_PATH,
  type DockerSandboxConfig,
  type DockerSandboxOptions,
  dockerSandboxConfig,
  egressConfig,
} from './docker-sandbox-options.js';
import { EgressProxy } from './egress-proxy.js';
import { ExitWitness } from './exit-witness.js';
import { HomeDisks } from './home-disks.js';
import { VaultPreparations } from './vault-preparations.js';
import { WarmPool } from './warm-pool.js';

/** Pauses between attempts to remove a container before it is left for the next sweep. */
const REMOVE_BACKOFF_MS = [100, 500];

/** A {@link Sandbox} on a local or remote Docker engine. */
export function createDockerSandbox(options: DockerSandboxOptions = {}): Sandbox {
  return new DockerSandbox(options);
}

class DockerSandbox implements Sandbox {
  private readonly agent = new DockerAgent();
  private readonly docker: Docker;
  private readonly config: DockerSandboxConfig;
  private readonly limit: LimitFunction;
  private readonly network: AgentsNetwork;
  private readonly egressProxy: EgressProxy;
  private readonly vaults: VaultPreparations;
  private readonly disks: HomeDisks | undefined;
  private readonly daemon: DockerDaemon;
  private readonly exits: ExitWitness;
  private readonly warmPool: WarmPool | undefined;
  /** Runs in flight: what each is waiting on, and which container it holds (`heldKey`). */
  private readonly running = new Map<AbortController, { done: Promise<unknown>; holds: string }>();
  /** Containers whose removal failed; retried by every sweep and by close. */
  private readonly pendingRemovals = new Set<string>();
  /** Warm containers being made (`warm`), awaited by close. */
  private readonly warming = new Set<Promise<void>>();
  private closing: Promise<void> | undefined;

  constructor(options: DockerSandboxOptions) {
    this.config = dockerSandboxConfig(options);
    const connection = options.host
      ? { host: options.host, port: options.port ?? 2375, protocol: 'http' as const }
      : { socketPath: options.socketPath ?? DEFAULT_SOCKET_PATH };
    // `agent` (ours, so close() can release its sockets) is a docker-modem option the typings lack.
    const modemOptions = { ...connection, agent: this.agent };
    this.docker = new Docker(modemOptions);
    this.limit = pLimit(this.config.dockerCallConcurrency);
    const egress = egressConfig(options.egress, options.names);
    this.egressProxy = new EgressProxy(this.docker, egress);
    this.network = new AgentsNetwork(
      this.docker,
      this.config.agentsNetwork,
      egress.subnetPool,
      this.egressProxy,
    );
    this.vaults = new VaultPreparations(this.docker);
    this.daemon = new DockerDaemon(this.docker, { returnWithinMs: this.config.daemonReturnMs });
    this.exits = new ExitWitness(this.docker);
    this.warmPool =
      this.config.warmPoolSize > 0
        ? new WarmPool({
            size: this.config.warmPoolSize,
            idleTtlMs: this.config.warmIdleTtlMs,
            remove: (id) => this.removeWarm(id),
            waiting: async (id) =>
              this.exits.exitCode(id) === undefined &&
              (await this.docker
                .getContainer(id)
                .inspect()
                .then(
                  (info) => info.State.Running,
                  () => false,
                )),
          })
        : undefined;
    const { disksDir } = this.config;
    this.disks = disksDir === undefined ? undefined : new HomeDisks(this.docker, this.limit, disksDir);
  }

  async run(request: SandboxRunRequest, hooks: SandboxRunHooks): Promise<SandboxRunResult> {
    if (this.closing) {
      throw new SandboxError('CLOSED', 'sandbox is closed', {
        retryable: true,
        context: { stepId: request.stepId },
      });
    }
    assertValidRunRequest(request);
    const controller = new AbortController();
    const forward = () => controller.abort(hooks.signal?.reason);
    if (hooks.signal?.aborted) forward();
    else hooks.signal?.addEventListener('abort', forward, { once: true });

    const run = this.containerRun(
      controller.signal,
      request.network === 'egress' ? withEgressEnv(request) : request,
      {
        ...hooks,
        // Once the step's own container started, the agent's next one is made meanwhile.
        onStarted: (info) => {
          hooks.onStarted?.(info);
          if (run.agentRuntime && request.network === 'none') void this.warm(request);
        },
      },
    );
    const done = run.execute();
    // The run is held (by close, and against the stray sweep) until its container and network
    // are gone, which is after the caller has the outcome.
    const gone = done
      .then(
        (result) => result.removed,
        () => undefined,
      )
      .then(() => run.releaseNetwork())
      .catch(() => undefined)
      .finally(() => {
        this.running.delete(controller);
        hooks.signal?.removeEventListener('abort', forward);
      });
    this.running.set(controller, { done: gone, holds: heldKey(request.stepId, request.attempt) });
    const result = await done.catch(async (error: unknown) => {
      await gone;
      throw error;
    });
    // An `egress` step's last proxy log lines come in while its network closes: its outcome
    // waits for them, so that every `egress` event is published before it.
    if (request.network === 'egress') await gone;
    return { ...result, removed: gone.then(() => result.removed) };
  }

  async warm(request: SandboxWarmRequest): Promise<SandboxWarmOutcome> {
    const pool = this.warmPool;
    if (pool === undefined) return 'off';
    if (this.closing) return 'closed';
    if (request.network !== 'none') return 'network';
    // Only the settings: a run request passed here keeps its step (env, secrets, files) to itself.
    const { agentId, workerId, image, limits, network, sharedVault, labels } = request;
    const settings: SandboxWarmRequest = {
      agentId,
      workerId,
      image,
      limits,
      network,
      ...(sharedVault === undefined ? {} : { sharedVault }),
      ...(labels === undefined ? {} : { labels }),
    };
    if (pool.has(settings)) return 'present';
    const warmId = randomBytes(8).toString('hex');
    const shape = { ...settings, stepId: `warm-${warmId}`, attempt: 0, argv: [], env: {}, files: [] };
    const run = this.containerRun(new AbortController().signal, shape, { onOutput: () => undefined });
    let outcome: SandboxWarmOutcome = 'warmed';
    const made = pool.add(settings, warmId, async () => {
      const warm = await run.warmUp(warmId).catch(() => 'failed' as const);
      if (typeof warm !== 'string') return warm;
      outcome = warm;
      return undefined;
    });
    const done = made.then(() => undefined);
    this.warming.add(done);
    await done;
    this.warming.delete(done);
    return outcome;
  }

  async reapOrphans(options: {
    selfWorkerId: string;
    isWorkerAlive(workerId: string): Promise<boolean>;
    fleet?: string;
  }): Promise<string[]> {
    await this.retryPendingRemovals();
    const byWorker = new Map<string, string[]>();
    const listed = await this.listContainers();
    // Its own, once no run of this sandbox holds them: an engine that lost or refused a removal
    // (as one does mid-shutdown) left them behind, and nobody else will judge them while it lives.
    const held = new Set([...this.running.values()].map((run) => run.holds));
    const strays = listed.filter(
      (container) =>
        container.workerId === options.selfWorkerId &&
        (container.warmId === undefined
          ? !held.has(heldKey(container.stepId, container.attempt))
          : !this.warmPool?.holds(container.warmId)),
    );
    for (const container of listed) {
      // Without a worker id nobody can tell whose it is: leave it to an operator.
      if (!container.workerId || container.workerId === options.selfWorkerId) continue;
      // Another fleet's worker heartbeats elsewhere: its containers are not ours to judge.
      if (container.fleet !== options.fleet) continue;
      byWorker.set(container.workerId, [...(byWorker.get(container.workerId) ?? []), container.id]);
    }
    const workers = [...byWorker.keys()];
    const alive = await Promise.all(workers.map((workerId) => options.isWorkerAlive(workerId)));
    const orphans = workers
      .filter((_, index) => !alive[index])
      .flatMap((workerId) => byWorker.get(workerId) ?? []);
    const removed = await this.removeAll([...orphans, ...strays.map((container) => container.id)]);
    // Step networks by the same judgement, once their containers are gone.
    await this.network.removeNetworks(async (labels) => {
      const workerId = labels[LABELS.workerId];
      if (!workerId || workerId === options.selfWorkerId || labels[LABELS.fleet] !== options.fleet)
        return false;
      return !(await options.isWorkerAlive(workerId));
    });
    return removed;
  }

  async removeWorkerContainers(workerId: string): Promise<string[]> {
    const containers = await this.listContainers({ workerId });
    const removed = await this.removeAll(containers.map((container) => container.id));
    await this.network.removeNetworks(async (labels) => labels[LABELS.workerId] === workerId);
    return removed;
  }

  removeAgentHome(agentId: string): Promise<boolean> {
    return this.removeVolume(homeVolumeName(this.config, agentId), 'a running step', { agentId });
  }

  removeSharedVault(team: string = DEFAULT_TEAM): Promise<boolean> {
    if (!TEAM_PATTERN.test(team)) {
      throw new SandboxError('INVALID_REQUEST', `team must match ${TEAM_PATTERN.source}`, {
        retryable: false,
        context: { team },
      });
    }
    return this.removeVolume(teamVaultVolumeName(this.config, team), 'running steps', { team });
  }

  /**
   * Removes a named volume, and the disk image behind a size-limited one; false when there is none.
   * A volume whose only users are containers that already stopped (a finished step's, removed just
   * after its outcome was recorded) is tried again for up to {@link STOPPED_USERS_WAIT_MS}.
   */
  private async removeVolume(name: string, users: string, context: ErrorContext): Promise<boolean> {
    const deadline = Date.now() + STOPPED_USERS_WAIT_MS;
    try {
      const volume = this.docker.getVolume(name);
      const info = await this.limit(() => volume.inspect());
      for (;;) {
        const refused = await this.limit(() => volume.remove()).then(
          () => undefined,
          (error: unknown) => error,
        );
        if (refused === undefined) break;
        if (dockerStatus(refused) !== 409 || Date.now() > deadline || !(await this.onlyStoppedUse(name))) {
          throw refused;
        }
        await sleep(100);
      }
      // A size-limited volume is also an image mounted on the host: unmount and delete it.
      await HomeDisks.release(info, context);
      return true;
    } catch (error) {
      if (dockerStatus(error) === 404) return false;
      if (dockerStatus(error) === 409) {
        throw new SandboxError('VOLUME_IN_USE', `volume ${name} is in use by ${users}`, {
          cause: error,
          retryable: false,
          context,
        });
      }
      throw toSandboxError(error, 'DOCKER_UNAVAILABLE', `cannot remove volume ${name}`, context);
    }
  }

  /** True when every container that mounts the volume has stopped (none is running or about to). */
  private async onlyStoppedUse(volume: string): Promise<boolean> {
    const users = await this.limit(() =>
      this.docker.listContainers({ all: true, filters: { volume: [volume] } }),
    );
    return users.every((user) => ['exited', 'dead', 'removing'].includes(user.State));
  }

  async listContainers(filter: { workerId?: string; stepId?: string } = {}): Promise<SandboxContainer[]> {
    const label = [`${LABELS.managed}=true`];
    if (filter.workerId !== undefined) label.push(`${LABELS.workerId}=${filter.workerId}`);
    if (filter.stepId !== undefined) label.push(`${LABELS.stepId}=${filter.stepId}`);
    try {
      const containers = await this.docker.listContainers({ all: true, filters: { label } });
      return containers.map((container) => {
        const stepId = container.Labels[LABELS.stepId];
        const workerId = container.Labels[LABELS.workerId];
        const fleet = container.Labels[LABELS.fleet];
        const warmId = container.Labels[WARM_LABEL];
        const agentId = container.Labels[LABELS.agentId];
        const attempt = Number(container.Labels[LABELS.attempt]);
        return {
          id: container.Id,
          ...(stepId === undefined ? {} : { stepId }),
          ...(Number.isInteger(attempt) ? { attempt } : {}),
          ...(workerId === undefined ? {} : { workerId }),
          ...(fleet === undefined ? {} : { fleet }),
          ...(warmId === undefined ? {} : { warmId }),
          ...(agentId === undefined ? {} : { agentId }),
          state: container.State,
        };
      });
    } catch (error) {
      throw toSandboxError(error, 'DOCKER_UNAVAILABLE', 'cannot list containers', {});
    }
  }

  async imageExists(image: string): Promise<boolean> {
    try {
      await this.docker.getImage(image).inspect();
      return true;
    } catch (error) {
      if (dockerStatus(error) === 404) return false;
      throw toSandboxError(error, 'DOCKER_UNAVAILABLE', `cannot inspect image ${image}`, { image });
    }
  }

  async ping(): Promise<{ apiVersion: string; version: string }> {
    try {
      const version = await this.docker.version();
      return { apiVersion: version.ApiVersion, version: version.Version };
    } catch (error) {
      throw toSandboxError(error, 'DOCKER_UNAVAILABLE', 'Docker engine did not answer', {});
    }
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    for (const controller of this.running.keys()) controller.abort('shutdown');
    await Promise.allSettled([...this.running.values()].map((run) => run.done));
    await Promise.allSettled(this.warming);
    await this.warmPool?.drain();
    await this.retryPendingRemovals();
    this.exits.close();
    this.egressProxy.close();
    this.agent.destroy();
  }

  private containerRun(
    signal: AbortSignal,
    request: SandboxRunRequest,
    hooks: SandboxRunHooks,
  ): ContainerRun {
    const deps = {
      docker: this.docker,
      limit: this.limit,
      config: this.config,
      network: this.network,
      vaults: this.vaults,
      disks: this.disks,
      signal,
      removeContainer: (id: string) => this.removeContainer(id),
      daemon: this.daemon,
      exits: this.exits,
      warmPool: this.warmPool,
    };
    return new ContainerRun(deps, request, hooks);
  }

  /** Removes a warm container nobody took, and forgets its exit. */
  private async removeWarm(id: string): Promise<void> {
    this.exits.forget(id);
    await this.removeContainer(id);
  }

  /**
   * Force-removes a container (and its anonymous volumes; named volumes stay), retrying with
   * backoff. A container that still cannot be removed is remembered and retried by the next
   * sweep, so a failed removal never fails a step that already ran.
   */
  private async removeContainer(idOrName: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      if (await this.tryRemove(idOrName)) return;
      const backoff = REMOVE_BACKOFF_MS[attempt];
      if (backoff === undefined) break;
      await sleep(backoff);
    }
    this.pendingRemovals.add(idOrName);
  }

  /** True once the container is gone. */
  private async tryRemove(idOrName: string): Promise<boolean> {
    try {
      await this.limit(() => this.docker.getContainer(idOrName).remove({ force: true, v: true }));
      return true;
    } catch (error) {
      // 404: already gone. A 409 (removal already in progress) is not gone: an engine that shuts
      // down mid-removal answers it and then keeps the container, so it is tried again later.
      return dockerStatus(error) === 404;
    }
  }

  private async removeAll(ids: string[]): Promise<string[]> {
    const removed = await Promise.all(ids.map(async (id) => ((await this.tryRemove(id)) ? id : undefined)));
    return removed.filter((id) => id !== undefined);
  }

  private async retryPendingRemovals(): Promise<void> {
    await Promise.all(
      [...this.pendingRemovals].map(async (id) => {
        if (await this.tryRemove(id)) this.pendingRemovals.delete(id);
      }),
    );
  }
}

/** How long a volume used only by stopped containers is waited for before it counts as in use, ms. */
const STOPPED_USERS_WAIT_MS = 5000;

/** Which run holds a container: its step and attempt (a container without them is held by none). */
function heldKey(stepId: string | undefined, attempt: number | undefined): string {
  return `${stepId}:${attempt}`;
}

/** The request with the proxy's variables for the step and for the runtime (the step's own `env` wins). */
function withEgressEnv(request: SandboxRunRequest): SandboxRunRequest {
  const proxy = egressProxyEnv();
  return { ...request, env: { ...proxy, ...request.env }, runtimeEnv: { ...request.runtimeEnv, ...proxy } };
}
