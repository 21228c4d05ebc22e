import type { OutputStream, StepNetwork } from '@sandfleet/contracts';

/** A file written under `/home/agent` before the container starts. */
export interface SandboxFile {
  /** Relative to `/home/agent`; checked with `homePathProblem()`. */
  path: string;
  content: string;
  encoding: 'utf8' | 'base64';
  /** Unix permission bits. @defaultValue 0o644 */
  mode?: number;
}

/** Resource limits of one run. */
export interface SandboxLimits {
  /** Wall-clock limit from start to exit, milliseconds; the container is killed when it passes. */
  timeoutMs: number;
  /** Memory limit in MiB; swap is disabled. */
  memoryMb: number;
  /** CPU share in cores (0.5 = half a core). */
  cpus: number;
  /** Maximum processes and threads. */
  pids: number;
  /**
   * Disk the step may fill, MiB. When set, the root filesystem is read-only; `/tmp`, `/var/tmp`
   * and `/run` are tmpfs of this size each (their pages count against `memoryMb`); and, when the
   * backend has a disks directory, the home is a filesystem of at least this size (the shared
   * vault one of the backend's own size). Unset: the root filesystem is writable and nothing caps
   * the disk.
   */
  diskMb?: number;
}

/** Everything needed to run one step attempt in a fresh container. */
export interface SandboxRunRequest {
  stepId: string;
  agentId: string;
  workerId: string;
  attempt: number;
  /** Image reference; must be present locally (never pulled). */
  image: string;
  /** Command; the image's entrypoint, if any, is kept. */
  argv: string[];
  /** Environment, secret values already resolved. Never logged by the sandbox. */
  env: Record<string, string>;
  files: SandboxFile[];
  /**
   * Written to `/sandfleet/input` (mode 0444, owned by the container user); also passed as
   * `SANDFLEET_INPUT` when at most {@link MAX_INPUT_ENV_BYTES}. `SANDFLEET_INPUT_FILE` names the file.
   */
  input?: string;
  /**
   * Files for the in-container runtime (e.g. a chat's prior conversation), written read-only to
   * `/sandfleet/<name>` before start, outside the persistent home. Names match {@link RUNTIME_FILE_NAME}.
   */
  runtimeFiles?: SandboxRuntimeFile[];
  /**
   * Variables for the in-container agent runtime (`SANDFLEET_*`). In an agent-runtime image
   * (labelled `sandfleet.runtime`) they are the container's only Env besides the image's, and
   * `env` with the input variables goes to the root-only runtime file `step-env.json` instead, so
   * that only the step's process gets it; in any other image they are added to `env`.
   */
  runtimeEnv?: Record<string, string>;
  limits: SandboxLimits;
  network: StepNetwork;
  /**
   * Whose shared vault is mounted at {@link SHARED_VAULT_PATH}, and whether read-write. Team
   * `shared` is the backend's `sharedVaultVolume`, any other `<prefix>-vault-<team>`.
   * @defaultValue `{ team: 'shared', writable: false }`
   */
  sharedVault?: SandboxSharedVault;
  /** Extra container labels; the Sandfleet contract labels always win. */
  labels?: Record<string, string>;
  /** SIGTERM → SIGKILL grace on cancel and shutdown, milliseconds. @defaultValue 5000 */
  stopGraceMs?: number;
}

/** The shared vault of a run: a team's volume, mounted read-only unless `writable`. */
export interface SandboxSharedVault {
  /** Matches `TEAM_PATTERN` of `@sandfleet/contracts`. */
  team: string;
  writable: boolean;
}

/** Why Sandfleet stopped a container before it exited by itself. */
export type SandboxStopReason = 'timeout' | 'cancel' | 'shutdown';

/** Callbacks of one run. */
export interface SandboxRunHooks {
  /**
   * Receives output in order, per stream. Awaited: no more output is read while a returned promise
   * is pending (backpressure). Throwing stops the container, and `run` rejects with that error.
   */
  onOutput(stream: OutputStream, chunk: Buffer): void | Promise<void>;
  /**
   * Called once the image is inspected, before the container is created: `agentRuntime` when the
   * image is labelled as running the agent runtime (its stdout then carries runtime events).
   */
  onImage?(info: { imageId: string; agentRuntime: boolean }): void;
  /**
   * Receives the egress proxy's log entry of each request of an `egress` step (allowed or
   * denied), as the proxy logs it (when the request ends). Must not throw.
   */
  onEgress?(entry: SandboxEgressEntry): void;
  /** Called once the container has started. Throwing stops the container, as for `onOutput`. */
  onStarted?(info: { containerId: string; imageId: string }): void;
  /**
   * Aborting stops the container: SIGTERM, `stopGraceMs`, then SIGKILL. The reason `'cancel'` or
   * `'shutdown'` becomes the result's `stopReason` (anything else counts as `'cancel'`). Aborted
   * before the container started, `run` rejects with `ABORTED` instead.
   */
  signal?: AbortSignal;
}

/** One request of an `egress` step through the fleet's proxy. */
export interface SandboxEgressEntry {
  /** When the proxy logged it (the request's end), ISO-8601. */
  ts: string;
  /** False when the proxy refused it (denied destination, domain not allowed). */
  allowed: boolean;
  /** The proxy's result code, e.g. `TCP_TUNNEL`, `TCP_MISS`, `TCP_DENIED`. */
  result: string;
  /** HTTP status the proxy answered; 0 when none. */
  httpStatus: number;
  /** `CONNECT` for a tunnel (HTTPS), else the HTTP method. */
  method: string;
  host: string;
  port: number | null;
  /** The request URL (`host:port` for a tunnel). */
  url: string;
  /** Bytes the step sent through the proxy. */
  bytesSent: number;
  /** Bytes the proxy sent back to the step. */
  bytesReceived: number;
  /** The step container's address on its network. */
  client: string;
}

/** How a run ended. */
export interface SandboxRunResult {
  containerId: string;
  imageId: string;
  /** Exit status of the command (128 + signal when killed); null when unknown. */
  exitCode: number | null;
  oomKilled: boolean;
  /** Set when Sandfleet stopped the container (timeout, cancel, shutdown). */
  stopReason?: SandboxStopReason;
  /** True when output may be missing: the output stream failed or did not end in time after exit. */
  outputIncomplete?: boolean;
  /**
   * Milliseconds spent in each lifecycle phase: `createMs` image check and create, `injectMs`
   * archive upload (attaching to the output runs alongside), `startMs` start, `runMs` start to exit
   * with all output delivered. Removal comes after, in {@link removed}.
   */
  timings: { createMs: number; injectMs: number; startMs: number; runMs: number };
  /**
   * Settles once the container (and an `egress` step's own network) is gone, with how long the
   * removal took. A run resolves as soon as its outcome is known; the removal goes on behind it,
   * so the caller can record the outcome meanwhile. Never rejects: a removal the engine refuses is
   * retried by the sandbox's sweeps, and `close()` waits for every removal in flight.
   */
  removed: Promise<{ destroyMs: number }>;
  /** Whether a warm container ran it; the miss's cause otherwise. */
  warm: { hit: true } | { hit: false; cause: SandboxWarmMiss };
}

/**
 * What a warm container is made for: the parts of a run request fixed when a container is
 * created. A later run of the same agent with the same image, limits (its timeout aside), network,
 * shared vault and labels is served by it; any other is a miss and runs cold.
 */
export type SandboxWarmRequest = Pick<
  SandboxRunRequest,
  'agentId' | 'workerId' | 'image' | 'limits' | 'network' | 'sharedVault' | 'labels'
>;

/**
 * What `warm` did: `warmed` made a container, `present` found one for that request already;
 * the others made none: `off` (no pool), `not-runtime` (the image does not run the agent
 * runtime, which the gate needs), `network` (only `none` steps are kept warm: an `egress` step
 * gets its own network per run), `closed` (the sandbox is closing), `failed` (the engine refused
 * or the image is missing; the next run is cold, as without a pool).
 */
export type SandboxWarmOutcome =
  | 'warmed'
  | 'present'
  | 'off'
  | 'not-runtime'
  | 'network'
  | 'closed'
  | 'failed';

/**
 * Why a run did not use a warm container: `none` (the agent had none here), `image`, `limits`,
 * `network`, `vault` or `labels` (it had one made for other settings; the run's own start then
 * warms one for its settings in its place), `lost` (it had died while warm), `off` (no pool), `not-runtime` (the image is not
 * an agent-runtime image). Home files are no miss: they are uploaded into the warm container.
 */
export type SandboxWarmMiss =
  | 'none'
  | 'image'
  | 'limits'
  | 'network'
  | 'vault'
  | 'labels'
  | 'lost'
  | 'off'
  | 'not-runtime';

/** A Sandfleet container as listed by the backend. */
export interface SandboxContainer {
  id: string;
  stepId?: string;
  /** The step attempt it was made for (`sandfleet.attempt`). */
  attempt?: number;
  workerId?: string;
  /** Value of the `sandfleet.fleet` label (the request's `labels`), when set. */
  fleet?: string;
  /** The agent it runs steps of (`sandfleet.agent-id`). */
  agentId?: string;
  /** Set for a warm container (its `sandfleet.warm` label), which has no step id or attempt. */
  warmId?: string;
  /** Backend state, e.g. `created`, `running`, `exited`. */
  state: string;
}

/**
 * Runs steps in isolated, disposable containers. Backend-neutral: Docker today, the seam for a
 * Kubernetes or remote backend later.
 */
export interface Sandbox {
  /**
   * Runs one step attempt: spawn → mount → inject → execute → stream, then destroy. Resolves with
   * the outcome once the container exited and its output is delivered; the container is removed
   * after that (`SandboxRunResult.removed`). Rejects only after the container is removed.
   */
  run(request: SandboxRunRequest, hooks: SandboxRunHooks): Promise<SandboxRunResult>;
  /**
   * Removes Sandfleet containers whose worker is not alive, and those of `selfWorkerId` that no
   * run of this sandbox holds any more (a removal the engine lost or refused); returns removed ids.
   * Failed removals of earlier runs are retried first.
   */
  reapOrphans(options: {
    selfWorkerId: string;
    isWorkerAlive(workerId: string): Promise<boolean>;
    /**
     * Only containers labelled `sandfleet.fleet` with this value (without the label when left
     * out) are judged: a worker cannot tell whether another fleet's workers are alive.
     */
    fleet?: string;
  }): Promise<string[]>;
  /** Force-removes every Sandfleet container of this worker (used at start-up and by tests). */
  removeWorkerContainers(workerId: string): Promise<string[]>;
  /**
   * Deletes an agent's persistent home volume (all it remembers); false when it has none.
   * @throws SandboxError `VOLUME_IN_USE` while a step of the agent runs.
   */
  removeAgentHome(agentId: string): Promise<boolean>;
  /**
   * Deletes a team's shared vault volume (all the team shared); false when there is none.
   * @param team @defaultValue 'shared' (the default team's, `sharedVaultVolume`)
   * @throws SandboxError `VOLUME_IN_USE` while a step runs; `INVALID_REQUEST` for a bad team name.
   */
  removeSharedVault(team?: string): Promise<boolean>;
  listContainers(filter?: { workerId?: string; stepId?: string }): Promise<SandboxContainer[]>;
  imageExists(image: string): Promise<boolean>;
  ping(): Promise<{ apiVersion: string; version: string }>;
  /**
   * Pre-starts a single-use container for the agent's next run (when the sandbox keeps a warm
   * pool): the agent's home mounted, the agent runtime waiting on stdin for the step, nothing of
   * any step (environment, secrets, files) in it until a run is given to it. Replaces an older
   * warm container of the same agent; evicts the least recently warmed one when the pool is full.
   */
  warm(request: SandboxWarmRequest): Promise<SandboxWarmOutcome>;
  /** Stops running containers (reason `shutdown`), waits for every removal in flight. Idempotent. */
  close(): Promise<void>;
}

/** Inputs up to this many bytes are also passed in the `SANDFLEET_INPUT` environment variable. */
export const MAX_INPUT_ENV_BYTES = 64 * 1024;
/** Path of the input file inside the container. */
export const INPUT_FILE_PATH = '/sandfleet/input';

/** Directory of the input and runtime files inside a container. */
export const RUNTIME_DIR = '/sandfleet';

/** Names of runtime files: one path segment under {@link RUNTIME_DIR}, never `input`. */
export const RUNTIME_FILE_NAME = /^(?!input$)[a-z0-9][a-z0-9._-]{0,63}$/;

/** A file written to `/sandfleet/<name>` for the in-container runtime. */
export interface SandboxRuntimeFile {
  name: string;
  content: string;
  /**
   * Readable by the agent runtime only: owned by root, mode 0400, and written only into
   * agent-runtime images (left out of any other image, whose step would read it).
   * @defaultValue false (owned by the image user, mode 0444)
   */
  private?: boolean;
}
/** Mount point of the agent's persistent home volume. */
export const AGENT_HOME = '/home/agent';
/** Mount point of the team's shared vault volume. */
export const SHARED_VAULT_PATH = '/home/agent/vault/shared';
/** @defaultValue of `SandboxRunRequest.stopGraceMs`. */
export const DEFAULT_STOP_GRACE_MS = 5000;
