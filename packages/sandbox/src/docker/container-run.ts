import type { Readable } from 'node:stream';
import type { ErrorContext } from '@sandfleet/contracts';
import type Docker from 'dockerode';
import type { LimitFunction } from 'p-limit';
import { SandboxError } from '../errors.js';
import {
  DEFAULT_STOP_GRACE_MS,
  type SandboxRunHooks,
  type SandboxRunRequest,
  type SandboxRunResult,
  type SandboxStopReason,
} from '../sandbox.js';
import type { AgentsNetwork } from './agents-network.js';
import { containerSpec, homeVolumeName } from './container-spec.js';
import { dockerStatus, dockerUnavailable, isDockerUnreachable, toSandboxError } from './docker-errors.js';
import type { DockerSandboxConfig } from './docker-sandbox-options.js';
import { imageOwner } from './image-owner.js';
import { buildInjectArchive } from './inject-archive.js';
import { OutputPump } from './output-pump.js';
import type { VaultPreparations } from './vault-preparations.js';

/** What a run borrows from its sandbox. */
export interface ContainerRunDeps {
  docker: Docker;
  /** Bounds concurrent create / start / remove / archive calls. */
  limit: LimitFunction;
  config: DockerSandboxConfig;
  network: AgentsNetwork;
  vaults: VaultPreparations;
  /** Aborted on cancel (the caller's signal) and on sandbox close (`shutdown`). */
  signal: AbortSignal;
  /** Force-removes a container (by id or name); never throws, retries later if it must. */
  removeContainer(idOrName: string): Promise<void>;
}

type RunOutcome = Omit<SandboxRunResult, 'containerId' | 'imageId' | 'timings'> & {
  timings: { injectMs: number; startMs: number; runMs: number };
};

const since = (start: number) => Math.round(performance.now() - start);

/**
 * One step attempt in one container: spawn → mount → inject → execute → stream → destroy. The
 * container is removed whatever the ending; nothing is created before the request and the image
 * are known to be good.
 */
export class ContainerRun {
  private readonly context: ErrorContext;
  private stopReason: SandboxStopReason | undefined;
  private graceTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly deps: ContainerRunDeps,
    private readonly request: SandboxRunRequest,
    private readonly hooks: SandboxRunHooks,
  ) {
    this.context = { stepId: request.stepId, agentId: request.agentId, workerId: request.workerId };
  }

  async execute(): Promise<SandboxRunResult> {
    const createStart = performance.now();
    const image = await this.inspectImage();
    this.throwIfAborted();
    const networkMode = this.request.network === 'egress' ? await this.deps.network.ensure() : 'none';
    const container = await this.create(image, networkMode);
    const createMs = since(createStart);
    this.context.containerId = container.id;

    let outcome: RunOutcome;
    try {
      outcome = await this.runCreated(container, image);
    } catch (error) {
      await this.deps.removeContainer(container.id);
      throw error;
    }
    const destroyStart = performance.now();
    await this.deps.removeContainer(container.id);
    return {
      ...outcome,
      containerId: container.id,
      imageId: image.Id,
      timings: { createMs, ...outcome.timings, destroyMs: since(destroyStart) },
    };
  }

  private async runCreated(container: Docker.Container, image: Docker.ImageInspectInfo): Promise<RunOutcome> {
    const injectStart = performance.now();
    let injectMs = 0;
    const injected = this.inject(container, image).then(() => {
      injectMs = since(injectStart);
    });
    // Attached before start, so not a byte of output is missed; meanwhile the archive uploads.
    const [injecting, attaching] = await Promise.allSettled([injected, this.attach(container)]);
    if (injecting.status === 'rejected') {
      if (attaching.status === 'fulfilled') attaching.value.destroy();
      throw injecting.reason;
    }
    if (attaching.status === 'rejected') throw attaching.reason;
    const pump = new OutputPump(attaching.value, this.hooks.onOutput);

    const startStart = performance.now();
    const onAbort = () => this.stop(container, stopReasonOf(this.deps.signal.reason));
    let timeout: NodeJS.Timeout | undefined;
    const disarm = () => {
      clearTimeout(timeout);
      clearTimeout(this.graceTimer);
      this.deps.signal.removeEventListener('abort', onAbort);
    };
    try {
      this.throwIfAborted();
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

      const exitCode = await this.waitForExit(container, pump);
      disarm();
      const [drained, state] = await Promise.all([
        pump.drain(this.deps.config.outputDrainIdleMs),
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
      pump.abandon();
      throw error;
    } finally {
      disarm();
    }
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

  private async create(image: Docker.ImageInspectInfo, networkMode: string): Promise<Docker.Container> {
    const spec = containerSpec({
      request: this.request,
      config: this.deps.config,
      imageId: image.Id,
      imageUser: image.Config.User ?? '',
      networkMode,
    });
    try {
      return await this.deps.limit(() => this.deps.docker.createContainer(spec));
    } catch (error) {
      if (this.request.network === 'egress') this.deps.network.invalidate();
      // A create lost in transit may still have made the container: remove it by name.
      if (dockerStatus(error) === undefined && spec.name) await this.deps.removeContainer(spec.name);
      throw toSandboxError(error, 'CONTAINER_CREATE_FAILED', 'cannot create container', this.context);
    }
  }

  private async inject(container: Docker.Container, image: Docker.ImageInspectInfo): Promise<void> {
    const { files, input, agentId, runtimeFiles = [] } = this.request;
    const owner = imageOwner(image.Config.User);
    // Root can write anywhere; a non-root agent needs the vault directories made its own.
    const vault =
      owner.uid === 0
        ? undefined
        : await this.deps.vaults.check(
            homeVolumeName(this.deps.config, agentId),
            this.deps.config.sharedVaultVolume,
            owner,
          );
    const willUpload =
      files.length > 0 || input !== undefined || runtimeFiles.length > 0 || vault?.needed === true;
    const archive = await buildInjectArchive({
      files,
      ...(input === undefined ? {} : { input }),
      runtimeFiles,
      owner,
      prepareVault: willUpload && vault !== undefined,
    });
    if (!archive) return;
    try {
      // noOverwriteDirNonDir: never let a file replace a directory of the agent's home (or a
      // directory entry replace a symlink the agent left there); fail instead.
      await this.deps.limit(() => container.putArchive(archive, { path: '/', noOverwriteDirNonDir: true }));
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

  private async attach(container: Docker.Container): Promise<Readable> {
    try {
      return (await container.attach({ stream: true, stdout: true, stderr: true })) as unknown as Readable;
    } catch (error) {
      throw toSandboxError(error, 'CONTAINER_START_FAILED', 'cannot attach to container', this.context);
    }
  }

  /** Exit status; rejects with the hook's own error if an output hook throws first. */
  private async waitForExit(container: Docker.Container, pump: OutputPump): Promise<number | null> {
    const exited = container.wait().then(
      (response: { StatusCode?: unknown }) => ({
        kind: 'exited' as const,
        code: typeof response.StatusCode === 'number' ? response.StatusCode : null,
      }),
      (error: unknown) => {
        throw toSandboxError(error, 'CONTAINER_WAIT_FAILED', 'lost track of container', this.context);
      },
    );
    const hookFailed = pump.done.then((outcome) =>
      outcome.kind === 'hook-failed' ? outcome : new Promise<never>(() => undefined),
    );
    const first = await Promise.race([exited, hookFailed]);
    if (first.kind === 'hook-failed') {
      exited.catch(() => undefined);
      throw first.error;
    }
    return first.code;
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

function stopReasonOf(reason: unknown): 'cancel' | 'shutdown' {
  return reason === 'shutdown' ? 'shutdown' : 'cancel';
}
