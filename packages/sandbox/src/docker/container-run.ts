import type { Duplex, Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type ErrorContext,
  HOME_SKELETON_LABEL,
  HOME_SKELETON_LABEL_VALUE,
  LABELS,
  RUNTIME_IMAGE_LABEL,
  RUNTIME_IMAGE_LABEL_VALUE,
} from '@sandfleet/contracts';
import type Docker from 'dockerode';
import type { LimitFunction } from 'p-limit';
import { SandboxError } from '../errors.js';
import {
  AGENT_HOME,
  DEFAULT_STOP_GRACE_MS,
  RUNTIME_DIR,
  type SandboxRunHooks,
  type SandboxRunRequest,
  type SandboxRunResult,
  type SandboxStopReason,
  type SandboxWarmMiss,
  type SandboxWarmOutcome,
} from '../sandbox.js';
import type { AgentsNetwork, StepNetworkLease } from './agents-network.js';
import {
  containerSpec,
  gateMessage,
  homeVolumeName,
  newVolumeInstances,
  runSharedVault,
  stepEnv,
  teamVaultVolumeName,
} from './container-spec.js';
import { type ArchivePart, splitArchiveByMount } from './disk-archive-split.js';
import type { DockerDaemon } from './docker-daemon.js';
import {
  dockerStatus,
  dockerUnavailable,
  isBrokenConnection,
  isDockerUnreachable,
  toSandboxError,
} from './docker-errors.js';
import type { DockerSandboxConfig } from './docker-sandbox-options.js';
import type { ExitWitness } from './exit-witness.js';
import type { HomeDisks } from './home-disks.js';
import { imageOwner } from './image-owner.js';
import { buildInjectArchive } from './inject-archive.js';
import { OutputPump } from './output-pump.js';
import type { VaultPreparations } from './vault-preparations.js';
import type { WarmContainer, WarmPool } from './warm-pool.js';

/** What a run borrows from its sandbox. */
export interface ContainerRunDeps {
  docker: Docker;
  /** Bounds concurrent create / start / remove / archive calls. */
  limit: LimitFunction;
  config: DockerSandboxConfig;
  network: AgentsNetwork;
  vaults: VaultPreparations;
  /** Size-limited homes; undefined when the sandbox has no disks directory. */
  disks: HomeDisks | undefined;
  /** Aborted on cancel (the caller's signal) and on sandbox close (`shutdown`). */
  signal: AbortSignal;
  /** Force-removes a container (by id or name); never throws, retries later if it must. */
  removeContainer(idOrName: string): Promise<void>;
  /** The engine across its restarts (waiting for it, live-restore). */
  daemon: DockerDaemon;
  /** Exit codes the engine announced on its event stream (when it loses one in a restart). */
  exits: ExitWitness;
  /** The sandbox's warm containers; undefined when it keeps none. */
  warmPool: WarmPool | undefined;
}

/** What a run uploads before the step runs: everything (cold), the vault (warm-up), home files (warm hit). */
type InjectScope = 'all' | 'vault' | 'files';

/** Exit codes of a container stopped by SIGTERM or SIGKILL, as an engine's shutdown stops it. */
const STOPPED_BY_SIGNAL = new Set([137, 143]);

/**
 * The exit code a restarted engine records for a container that exited while it was down and
 * whose status its containerd no longer had (seen: a step that printed its output and exited 0
 * came back as 255). After an outage it says nothing of the step's own code.
 */
const EXIT_STATUS_LOST = 255;

/**
 * What one wait on the container saw: the wait's answer, a broken connection, or (the watchdog)
 * a container that exited while the wait never answered. A wait that never answers is lost as
 * surely as a broken one: the engine restarted under it (seen: the restarted engine reported
 * 255 for a step that had printed its output and exited 0), so its exit is judged as after an
 * outage.
 */
type Seen = { kind: 'exited'; code: number | null } | { kind: 'disconnected' } | { kind: 'wait-lost' };

type RunOutcome = Omit<SandboxRunResult, 'containerId' | 'imageId' | 'timings' | 'removed' | 'warm'> & {
  timings: { injectMs: number; startMs: number; runMs: number };
};

const since = (start: number) => Math.round(performance.now() - start);

/** How long after an unexplained SIGTERM/SIGKILL exit the engine is given to stop answering, ms. */
const ENGINE_SHUTDOWN_LOOK_MS = 5000;
/** Between the pings of that look, ms. */
const ENGINE_SHUTDOWN_PING_MS = 250;

/**
 * One step attempt in one container: spawn → mount → inject → execute → stream → destroy. The
 * container is removed whatever the ending; nothing is created before the request and the image
 * are known to be good.
 */
export class ContainerRun {
  private readonly context: ErrorContext;
  private stopReason: SandboxStopReason | undefined;
  private graceTimer: NodeJS.Timeout | undefined;
  /** The step's own network (`egress` steps); closed by {@link releaseNetwork}. */
  private network: StepNetworkLease | undefined;
  /** Instance labels of the home and shared vault, should this run's create make them. */
  private readonly volumeInstances = newVolumeInstances();
  /** Known once the image is inspected: whether it runs the agent runtime. */
  agentRuntime = false;

  constructor(
    private readonly deps: ContainerRunDeps,
    private readonly request: SandboxRunRequest,
    private readonly hooks: SandboxRunHooks,
  ) {
    this.context = { stepId: request.stepId, agentId: request.agentId, workerId: request.workerId };
  }

  async execute(): Promise<SandboxRunResult> {
    const createStart = performance.now();
    // A step that arrives while the engine restarts waits for it rather than spending an attempt.
    const image = await this.inspectImage().catch(async (error: unknown) => {
      if (!(error instanceof SandboxError && error.code === 'DOCKER_UNAVAILABLE')) throw error;
      await this.deps.daemon.waitUntilUp(this.context);
      return this.inspectImage();
    });
    const agentRuntime = isAgentRuntime(image);
    this.agentRuntime = agentRuntime;
    this.hooks.onImage?.({ imageId: image.Id, agentRuntime });
    this.throwIfAborted();
    const taken = await this.takeWarm(image, agentRuntime);
    let container: Docker.Container;
    if ('hit' in taken) {
      container = taken.hit.container;
    } else {
      if (this.request.network === 'egress') {
        this.network = await this.deps.network.open(this.request, this.hooks.onEgress);
      }
      const networkMode = this.network?.name ?? 'none';
      await this.prepareDisks(image);
      container = await this.create(image, networkMode, agentRuntime);
    }
    const createMs = since(createStart);
    this.context.containerId = container.id;

    let outcome: RunOutcome;
    try {
      outcome = await this.runCreated(container, image, agentRuntime, 'hit' in taken);
    } catch (error) {
      await this.deps.removeContainer(container.id);
      throw error;
    } finally {
      this.deps.exits.forget(container.id);
      if ('hit' in taken) this.deps.warmPool?.release(taken.hit.warmId);
    }
    // Off the outcome's path: the caller records it while the engine removes the container.
    const destroyStart = performance.now();
    const removed = this.deps.removeContainer(container.id).then(() => ({ destroyMs: since(destroyStart) }));
    return {
      ...outcome,
      containerId: container.id,
      imageId: image.Id,
      timings: { createMs, ...outcome.timings },
      removed,
      warm: 'hit' in taken ? { hit: true } : { hit: false, cause: taken.miss },
    };
  }

  /**
   * Makes and starts a warm container for this request's agent and settings (the request carries
   * no step): the home mounted and its vault prepared, the runtime waiting at its gate.
   */
  async warmUp(warmId: string): Promise<WarmContainer | Exclude<SandboxWarmOutcome, 'warmed' | 'present'>> {
    const image = await this.inspectImage();
    if (!isAgentRuntime(image)) return 'not-runtime';
    if (this.request.network !== 'none') return 'network';
    await this.prepareDisks(image);
    const container = await this.create(image, 'none', true, warmId);
    try {
      await this.deps.exits.watch(container.id);
      await this.inject(container, image, 'vault');
      await this.deps.limit(() => container.start());
    } catch (error) {
      this.deps.exits.forget(container.id);
      await this.deps.removeContainer(container.id);
      throw toSandboxError(error, 'CONTAINER_START_FAILED', 'cannot start warm container', this.context);
    }
    return { container, warmId, imageId: image.Id };
  }

  /** The agent's warm container when one serves this run, else why none does. */
  private async takeWarm(
    image: Docker.ImageInspectInfo,
    agentRuntime: boolean,
  ): Promise<{ hit: WarmContainer } | { miss: SandboxWarmMiss }> {
    if (this.deps.warmPool === undefined) return { miss: 'off' };
    if (!agentRuntime) return { miss: 'not-runtime' };
    if (this.request.network !== 'none') return { miss: 'network' };
    return this.deps.warmPool.take(this.request, image.Id);
  }

  /** Runs the step in a created container, or (`gated`) in a started warm one through its gate. */
  private async runCreated(
    container: Docker.Container,
    image: Docker.ImageInspectInfo,
    agentRuntime: boolean,
    gated: boolean,
  ): Promise<RunOutcome> {
    const injectStart = performance.now();
    let injectMs = 0;
    const scope: InjectScope = gated ? 'files' : 'all';
    const injected = this.inject(container, image, scope, agentRuntime).then(() => {
      injectMs = since(injectStart);
    });
    // Attached before start, so not a byte of output is missed; meanwhile the archive uploads
    // and the engine's event stream is watched for the container's exit.
    const [injecting, attaching] = await Promise.allSettled([
      injected,
      this.attach(container, gated),
      gated ? undefined : this.deps.exits.watch(container.id),
    ]);
    if (injecting.status === 'rejected') {
      if (attaching.status === 'fulfilled') attaching.value.destroy();
      throw injecting.reason;
    }
    if (attaching.status === 'rejected') throw attaching.reason;
    const output = { pump: new OutputPump(attaching.value, this.hooks.onOutput) };

    const startStart = performance.now();
    const onAbort = () => this.stop(container, stopReasonOf(this.deps.signal.reason));
    let timeout: NodeJS.Timeout | undefined;
    const disarm = () => {
      clearTimeout(timeout);
      clearTimeout(this.graceTimer);
      this.deps.signal.removeEventListener('abort', onAbort);
    };
    try {
      // The proxy joins the step's network while the container is created and filled.
      await this.network?.ready;
      this.throwIfAborted();
      if (gated) await this.openGate(attaching.value as Duplex);
      else
        await this.deps
          .limit(() => container.start())
          .catch((error: unknown) => {
            throw toSandboxError(error, 'CONTAINER_START_FAILED', 'cannot start container', this.context);
          });
      const runStart = performance.now();
      const startMs = since(startStart);
      timeout = setTimeout(() => this.stop(container, 'timeout'), this.request.limits.timeoutMs);
      this.deps.signal.addEventListener('abort', onAbort, { once: true });
      if (this.deps.signal.aborted) onAbort();
      this.hooks.onStarted?.({ containerId: container.id, imageId: image.Id });

      const exitCode = await this.waitForExit(container, output);
      disarm();
      const [drained, state] = await Promise.all([
        output.pump.drain(this.deps.config.outputDrainIdleMs),
        container.inspect().then(
          (info) => info.State,
          () => undefined,
        ),
      ]);
      if (drained?.kind === 'hook-failed') throw drained.error;
      const outputComplete = drained?.kind === 'ended' && drained.complete;
      return {
        exitCode,
        oomKilled: state?.OOMKilled ?? false,
        ...(this.stopReason ? { stopReason: this.stopReason } : {}),
        ...(outputComplete ? {} : { outputIncomplete: true }),
        timings: { injectMs, startMs, runMs: since(runStart) },
      };
    } catch (error) {
      output.pump.abandon();
      throw error;
    } finally {
      disarm();
    }
  }

  /**
   * Before the create, which would otherwise make plain (unlimited) volumes of these names: the
   * agent's home as a filesystem of at least `diskMb`, its team's shared vault of
   * `sharedVaultDiskMb` (one size for every team, whatever a step asks).
   */
  private async prepareDisks(image: Docker.ImageInspectInfo): Promise<void> {
    const { diskMb } = this.request.limits;
    const { disks, config } = this.deps;
    if (diskMb === undefined || disks === undefined) return;
    const owner = imageOwner(image.Config.User);
    const managed = { [LABELS.managed]: 'true' };
    const home = {
      name: homeVolumeName(config, this.request.agentId),
      labels: { ...managed, [LABELS.agentId]: this.request.agentId },
    };
    await Promise.all([
      disks.ensure(home, diskMb, owner, this.context),
      disks.ensure(
        { name: teamVaultVolumeName(config, runSharedVault(this.request).team), labels: managed },
        config.sharedVaultDiskMb,
        owner,
        this.context,
      ),
    ]);
  }

  /** Removes the step's network, after the container; never throws. */
  async releaseNetwork(): Promise<void> {
    await this.network?.close();
  }

  private async inspectImage(): Promise<Docker.ImageInspectInfo> {
    const { image } = this.request;
    try {
      return await this.deps.docker.getImage(image).inspect();
    } catch (error) {
      if (isDockerUnreachable(error)) throw dockerUnavailable(error, this.context);
      if (dockerStatus(error) === 404) {
        const hint = this.deps.config.imageBuildHint(image);
        throw new SandboxError(
          'IMAGE_NOT_FOUND',
          `image ${image} is not present locally (never pulled); ${hint}`,
          {
            retryable: true,
            cause: error,
            context: { ...this.context, image },
          },
        );
      }
      if (dockerStatus(error) === 400) {
        throw new SandboxError('INVALID_REQUEST', `invalid image reference ${image}`, {
          retryable: false,
          cause: error,
          context: { ...this.context, image },
        });
      }
      throw toSandboxError(error, 'DOCKER_UNAVAILABLE', `cannot inspect image ${image}`, this.context);
    }
  }

  private async create(
    image: Docker.ImageInspectInfo,
    networkMode: string,
    agentRuntime: boolean,
    warmId?: string,
  ): Promise<Docker.Container> {
    const spec = containerSpec({
      request: this.request,
      config: this.deps.config,
      imageId: image.Id,
      imageUser: image.Config.User ?? '',
      networkMode,
      agentRuntime,
      volumeInstances: this.volumeInstances,
      ...(warmId === undefined ? {} : { warmId }),
    });
    try {
      return await this.deps.limit(() => this.deps.docker.createContainer(spec));
    } catch (error) {
      // A create lost in transit may still have made the container: remove it by name.
      if (dockerStatus(error) === undefined && spec.name) await this.deps.removeContainer(spec.name);
      throw toSandboxError(error, 'CONTAINER_CREATE_FAILED', 'cannot create container', this.context);
    }
  }

  /**
   * Uploads what the step needs before it runs: `all` for a cold container (home files, input,
   * runtime files, the step's environment, the vault directories); `vault` for a warm-up (the
   * vault directories alone: nothing of a step); `files` for a warm hit (home files alone: the
   * rest goes through the gate, and the warm-up prepared the vault).
   */
  private async inject(
    container: Docker.Container,
    image: Docker.ImageInspectInfo,
    scope: InjectScope,
    agentRuntime = true,
  ): Promise<void> {
    const { agentId } = this.request;
    const files = scope === 'vault' ? [] : this.request.files;
    const input = scope === 'all' ? this.request.input : undefined;
    // Private runtime files are for the agent runtime alone: any other image never gets them.
    const runtimeFiles =
      scope === 'all'
        ? (this.request.runtimeFiles ?? []).filter((file) => agentRuntime || !file.private)
        : [];
    const withStepEnv = scope === 'all' && agentRuntime;
    const owner = imageOwner(image.Config.User);
    const shared = runSharedVault(this.request);
    // Root can write anywhere; a non-root agent needs the vault directories made its own (the
    // shared one only when it may write there: a read-only mount takes no archive).
    const vault =
      owner.uid === 0 || scope === 'files'
        ? undefined
        : await this.deps.vaults.check(
            {
              home: homeVolumeName(this.deps.config, agentId),
              shared: teamVaultVolumeName(this.deps.config, shared.team),
              instances: this.volumeInstances,
              skeleton: image.Config.Labels?.[HOME_SKELETON_LABEL] === HOME_SKELETON_LABEL_VALUE,
            },
            owner,
            shared.writable,
          );
    const willUpload =
      files.length > 0 ||
      input !== undefined ||
      runtimeFiles.length > 0 ||
      vault?.needed === true ||
      withStepEnv;
    if (!willUpload) return;
    const archive = await buildInjectArchive({
      files,
      ...(input === undefined ? {} : { input }),
      runtimeFiles,
      ...(withStepEnv ? { agentRuntime: { stepEnv: stepEnv(this.request) } } : {}),
      owner,
      prepareVault: willUpload && vault !== undefined ? (shared.writable ? 'shared' : 'home') : false,
    });
    if (!archive) return;
    try {
      // noOverwriteDirNonDir: never let a file replace a directory of the agent's home (or a
      // directory entry replace a symlink the agent left there); fail instead.
      for (const part of await this.archiveParts(archive)) {
        await this.deps.limit(() =>
          container.putArchive(part.archive, { path: part.path, noOverwriteDirNonDir: true }),
        );
      }
    } catch (error) {
      const failure = toSandboxError(
        error,
        'INJECT_FAILED',
        'cannot write files into container',
        this.context,
      );
      // The engine answers 500 for a path clash in the agent's home, which no retry resolves.
      if (failure.code === 'INJECT_FAILED' && /cannot overwrite/.test(failure.message)) {
        throw new SandboxError('INJECT_FAILED', failure.message, {
          retryable: false,
          cause: error,
          context: this.context,
        });
      }
      throw failure;
    }
    vault?.done();
  }

  /** A read-only root takes archives only inside its volumes: one per mount point then. */
  private async archiveParts(archive: Buffer): Promise<ArchivePart[]> {
    if (this.request.limits.diskMb === undefined) return [{ path: '/', archive }];
    return splitArchiveByMount(archive, [AGENT_HOME, RUNTIME_DIR]);
  }

  /** The container's output stream; with `stdin` also its stdin (a warm container's gate). */
  private async attach(container: Docker.Container, stdin = false): Promise<Readable> {
    try {
      const options = {
        stream: true,
        stdout: true,
        stderr: true,
        ...(stdin ? { stdin: true, hijack: true } : {}),
      };
      return (await container.attach(options)) as unknown as Readable;
    } catch (error) {
      throw toSandboxError(error, 'CONTAINER_START_FAILED', 'cannot attach to container', this.context);
    }
  }

  /**
   * Gives the step to a warm container: its runtime reads the gate message (argv, runtime
   * variables, runtime files with the step's environment and input) from stdin, which then ends.
   */
  private async openGate(stream: Duplex): Promise<void> {
    const line = `${JSON.stringify(gateMessage(this.request))}\n`;
    await new Promise<void>((resolve, reject) => {
      stream.write(line, (error) => (error ? reject(error) : resolve()));
    }).catch((error: unknown) => {
      throw toSandboxError(
        error,
        'CONTAINER_START_FAILED',
        'cannot give the step to its warm container',
        this.context,
      );
    });
    stream.end();
  }

  /**
   * Exit status of the container, through restarts of the engine. When the connection breaks
   * (the wait fails, or answers 137/143 as an engine stops its containers on shutdown), it waits
   * for the engine (bounded), then asks what became of the container: still running
   * (live-restore) → attach again and keep waiting; exited on its own → its exit code; gone, or
   * ended by SIGTERM/SIGKILL that nobody here sent while the engine was away, or with the 255 of
   * a lost exit status → `CONTAINER_LOST`, an infrastructure failure (retried), never the step's
   * own. Live-restore does not change that rule: an engine with it still stops containers whose
   * start its shutdown cut short (seen: seven steps `failed` with 143 in one restart under load).
   * A watchdog inspects the container every `watchdogIntervalMs`, so a wait that never answers
   * cannot hold the step; its exit is then judged by the same rule, as the wait was lost. Once
   * the engine was away, a later wait's answer is judged so too. Rejects with the hook's own
   * error if an output hook throws first.
   */
  private async waitForExit(
    container: Docker.Container,
    output: { pump: OutputPump },
  ): Promise<number | null> {
    let outage = false;
    for (;;) {
      const seen = await this.waitOnce(container, output.pump);
      if (seen.kind === 'exited') {
        if (outage) return this.exitAfterOutage(seen.code);
        if (!(await this.mayBeEngineShutdown(seen.code))) return seen.code;
      }
      outage = true;
      await this.deps.daemon.waitUntilUp(this.context);
      const state = await this.inspectAfterOutage(container);
      if (state.Running) {
        output.pump.abandon();
        output.pump = new OutputPump(await this.attach(container), this.hooks.onOutput);
        continue;
      }
      return this.exitAfterOutage(state.ExitCode);
    }
  }

  /**
   * An exit code seen after the engine was away, or while a wait never answered: SIGTERM/SIGKILL
   * that nobody here sent, and the 255 of a lost exit status, are the engine's doing
   * (`CONTAINER_LOST`, retried), not the step's.
   */
  private exitAfterOutage(code: number | null): number | null {
    if (this.stopReason || code === null) return code;
    if (STOPPED_BY_SIGNAL.has(code))
      throw this.lost(`it ended by signal (exit code ${code}) while the Docker engine was away`);
    if (code === EXIT_STATUS_LOST) {
      // The exit the engine announced before it lost it, when that was the container's own.
      const announced = this.deps.exits.exitCode(this.context.containerId ?? '');
      if (announced !== undefined && announced !== EXIT_STATUS_LOST && !STOPPED_BY_SIGNAL.has(announced))
        return announced;
      throw this.lost('the Docker engine lost its exit status while it was away (exit code 255)');
    }
    return code;
  }

  /** One wait, raced with the output hooks and the watchdog. */
  private async waitOnce(container: Docker.Container, pump: OutputPump): Promise<Seen> {
    const exited = container.wait().then(
      (response: { StatusCode?: unknown }): Seen => ({
        kind: 'exited',
        code: typeof response.StatusCode === 'number' ? response.StatusCode : null,
      }),
      (error: unknown): Seen => {
        if (isDockerUnreachable(error) || isBrokenConnection(error)) return { kind: 'disconnected' };
        throw toSandboxError(error, 'CONTAINER_WAIT_FAILED', 'lost track of container', this.context);
      },
    );
    const hookFailed = pump.done.then((outcome) =>
      outcome.kind === 'hook-failed' ? outcome : new Promise<never>(() => undefined),
    );
    const watchdog = this.watch(container);
    try {
      const first = await Promise.race([exited, hookFailed, watchdog.seen]);
      if ('error' in first) throw first.error;
      return first;
    } finally {
      watchdog.stop();
      exited.catch(() => undefined);
    }
  }

  /**
   * Inspects the container periodically while a wait is pending: one gone (404) is lost; one
   * seen exited twice in a row means the wait should have answered and is lost; an engine that
   * does not answer is a broken connection.
   */
  private watch(container: Docker.Container): { seen: Promise<Seen>; stop(): void } {
    let timer: NodeJS.Timeout | undefined;
    let stopped = false;
    const seen = new Promise<Seen>((resolve, reject) => {
      let exitedBefore = false;
      const check = async () => {
        if (stopped) return;
        try {
          const { State } = await container.inspect();
          if (State.Running || State.Status === 'created') exitedBefore = false;
          else if (exitedBefore) return resolve({ kind: 'wait-lost' });
          else exitedBefore = true;
        } catch (error) {
          if (dockerStatus(error) === 404) return reject(this.lost('it is gone'));
          if (isDockerUnreachable(error) || isBrokenConnection(error))
            return resolve({ kind: 'disconnected' });
        }
        if (!stopped) timer = setTimeout(check, this.deps.config.watchdogIntervalMs);
      };
      timer = setTimeout(check, this.deps.config.watchdogIntervalMs);
    });
    seen.catch(() => undefined);
    return {
      seen,
      stop: () => {
        stopped = true;
        clearTimeout(timer);
      },
    };
  }

  /**
   * Whether an exit by SIGTERM/SIGKILL that nobody here asked for may be the engine stopping its
   * containers as it shuts down (with or without live-restore): then the engine stops answering
   * soon, which pings over {@link ENGINE_SHUTDOWN_LOOK_MS} tell. One ping is not enough: a
   * shutting-down dockerd closes its listener but keeps serving open keep-alive connections
   * while it stops containers (seen: 143 with the engine still answering a second later).
   */
  private async mayBeEngineShutdown(code: number | null): Promise<boolean> {
    if (this.stopReason || code === null || !STOPPED_BY_SIGNAL.has(code)) return false;
    const deadline = performance.now() + ENGINE_SHUTDOWN_LOOK_MS;
    while (performance.now() < deadline) {
      await sleep(ENGINE_SHUTDOWN_PING_MS);
      const answers = await this.deps.docker.ping().then(
        () => true,
        () => false,
      );
      if (!answers) return true;
    }
    return false;
  }

  /** The container's state once the engine answers again; `CONTAINER_LOST` when it is gone. */
  private async inspectAfterOutage(
    container: Docker.Container,
  ): Promise<Docker.ContainerInspectInfo['State']> {
    try {
      return (await container.inspect()).State;
    } catch (error) {
      if (dockerStatus(error) === 404) throw this.lost('it is gone after the engine came back');
      throw toSandboxError(error, 'DOCKER_UNAVAILABLE', 'cannot inspect container', this.context);
    }
  }

  private lost(why: string): SandboxError {
    return new SandboxError('CONTAINER_LOST', `the step's container was lost: ${why}`, {
      retryable: true,
      context: this.context,
    });
  }

  /** Timeout kills at once; cancel and shutdown send SIGTERM, then SIGKILL after the grace. */
  private stop(container: Docker.Container, reason: SandboxStopReason): void {
    this.stopReason ??= reason;
    const kill = (signal: string) => container.kill({ signal }).catch(() => undefined);
    if (reason === 'timeout') {
      void kill('SIGKILL');
      return;
    }
    if (this.graceTimer) return;
    void kill('SIGTERM');
    this.graceTimer = setTimeout(
      () => void kill('SIGKILL'),
      this.request.stopGraceMs ?? DEFAULT_STOP_GRACE_MS,
    );
  }

  private throwIfAborted(): void {
    const { signal } = this.deps;
    if (!signal.aborted) return;
    const reason = stopReasonOf(signal.reason);
    throw new SandboxError(
      'ABORTED',
      `run ${reason === 'shutdown' ? 'shut down' : 'cancelled'} before start`,
      {
        retryable: reason === 'shutdown',
        context: { ...this.context, reason },
      },
    );
  }
}

function isAgentRuntime(image: Docker.ImageInspectInfo): boolean {
  return image.Config.Labels?.[RUNTIME_IMAGE_LABEL] === RUNTIME_IMAGE_LABEL_VALUE;
}

function stopReasonOf(reason: unknown): 'cancel' | 'shutdown' {
  return reason === 'shutdown' ? 'shutdown' : 'cancel';
}
