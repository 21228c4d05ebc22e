import { DEFAULT_TEAM } from '@sandfleet/contracts';
import type Docker from 'dockerode';
import type { SandboxRunRequest, SandboxWarmMiss, SandboxWarmRequest } from '../sandbox.js';

/** A started warm container, its runtime waiting at the gate. */
export interface WarmContainer {
  container: Docker.Container;
  /** Value of its `sandfleet.warm` label: what the stray sweep knows it by. */
  warmId: string;
  imageId: string;
}

/** What a run got from the pool. */
export type WarmTake = { hit: WarmContainer } | { miss: SandboxWarmMiss };

export interface WarmPoolOptions {
  /** Warm containers kept at most (ready or being made); the least recently warmed one goes first. */
  size: number;
  /** A warm container not used within this is removed, ms. */
  idleTtlMs: number;
  /** Force-removes a container; never throws. */
  remove(containerId: string): Promise<void>;
  /**
   * Whether the container still waits at its gate: false once the engine announced its exit, or
   * says it is not running (or gone).
   */
  waiting(containerId: string): Promise<boolean>;
}

interface Entry {
  warmId: string;
  request: SandboxWarmRequest;
  /** Settles with the container once started; undefined when making it failed. */
  ready: Promise<WarmContainer | undefined>;
  timer?: NodeJS.Timeout;
}

/**
 * One sandbox's warm containers, at most one per agent: made for a request's settings, taken
 * whole by the agent's next run with the same settings (and image), never by another agent.
 */
export class WarmPool {
  private readonly entries = new Map<string, Entry>();
  /** Warm ids of containers being made, ready, or running a step: never strays. */
  private readonly held = new Set<string>();

  constructor(private readonly options: WarmPoolOptions) {}

  /** Whether a container for exactly these settings is present or being made. */
  has(request: SandboxWarmRequest): boolean {
    const entry = this.entries.get(request.agentId);
    return entry !== undefined && mismatch(entry.request, request) === undefined;
  }

  /**
   * Adds the container `make` starts (with `warmId` as its label) for the request's agent,
   * replacing the agent's older one and evicting the least recently warmed when full. `make`
   * settling with undefined (or failing) leaves no entry.
   */
  add(
    request: SandboxWarmRequest,
    warmId: string,
    make: () => Promise<WarmContainer | undefined>,
  ): Promise<WarmContainer | undefined> {
    this.discard(request.agentId);
    while (this.entries.size >= this.options.size) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.discard(oldest);
    }
    this.held.add(warmId);
    const entry: Entry = {
      warmId,
      request,
      ready: make()
        .catch(() => undefined)
        .then((warm) => {
          if (warm !== undefined) return warm;
          this.held.delete(warmId);
          if (this.entries.get(request.agentId) === entry) this.entries.delete(request.agentId);
          return undefined;
        }),
    };
    this.entries.set(request.agentId, entry);
    void entry.ready.then((warm) => {
      if (warm === undefined || this.entries.get(request.agentId) !== entry) return;
      entry.timer = setTimeout(() => this.discard(request.agentId), this.options.idleTtlMs);
      entry.timer.unref();
    });
    return entry.ready;
  }

  /**
   * The agent's warm container for this run, taken out of the pool (waiting for one being made),
   * or why there is none. A mismatch keeps the container for a run that matches.
   */
  async take(request: SandboxRunRequest, imageId: string): Promise<WarmTake> {
    const entry = this.entries.get(request.agentId);
    if (entry === undefined) return { miss: 'none' };
    const differs = mismatch(entry.request, request);
    if (differs !== undefined) return { miss: differs };
    this.entries.delete(request.agentId);
    clearTimeout(entry.timer);
    const warm = await entry.ready;
    if (warm === undefined) return { miss: 'lost' };
    const cause =
      warm.imageId !== imageId
        ? 'image'
        : (await this.options.waiting(warm.container.id))
          ? undefined
          : 'lost';
    if (cause !== undefined) {
      this.release(warm.warmId);
      void this.options.remove(warm.container.id);
      return { miss: cause };
    }
    return { hit: warm };
  }

  /** A run that took a warm container is done with it (it removes the container itself). */
  release(warmId: string): void {
    this.held.delete(warmId);
  }

  /** Whether a container with this warm label is the pool's or a run's (not a stray). */
  holds(warmId: string): boolean {
    return this.held.has(warmId);
  }

  /** Removes every warm container (those being made once they are). */
  async drain(): Promise<void> {
    const agents = [...this.entries.keys()];
    await Promise.all(agents.map((agentId) => this.discard(agentId)));
  }

  private async discard(agentId: string): Promise<void> {
    const entry = this.entries.get(agentId);
    if (entry === undefined) return;
    this.entries.delete(agentId);
    clearTimeout(entry.timer);
    const warm = await entry.ready;
    if (warm !== undefined) await this.options.remove(warm.container.id);
    this.held.delete(entry.warmId);
  }
}

/** The first setting a run has that its agent's warm container was not made with. */
function mismatch(warm: SandboxWarmRequest, run: SandboxWarmRequest): SandboxWarmMiss | undefined {
  if (warm.image !== run.image) return 'image';
  if (run.network !== 'none' || warm.network !== run.network) return 'network';
  // What the container was created with (the timeout is the run's, and so is anything else a
  // caller's limits object carries).
  const limits = ({ limits: { memoryMb, cpus, pids, diskMb } }: SandboxWarmRequest) =>
    `${memoryMb}:${cpus}:${pids}:${diskMb ?? ''}`;
  if (limits(warm) !== limits(run)) return 'limits';
  const vault = (request: SandboxWarmRequest) =>
    `${request.sharedVault?.team ?? DEFAULT_TEAM}:${request.sharedVault?.writable === true}`;
  if (vault(warm) !== vault(run)) return 'vault';
  const labels = (request: SandboxWarmRequest) => JSON.stringify(Object.entries(request.labels ?? {}).sort());
  if (labels(warm) !== labels(run)) return 'labels';
  return undefined;
}
