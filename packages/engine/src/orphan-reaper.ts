import type { Logger } from '@sandfleet/logging';
import type { WorkerRegistry } from '@sandfleet/queue';
import type { Sandbox } from '@sandfleet/sandbox';
import { MissingHeartbeats } from './missing-heartbeats.js';
import { PeriodicSweep } from './periodic-sweep.js';

export interface OrphanReaperDeps {
  sandbox: Sandbox;
  registry: Pick<WorkerRegistry, 'isAlive'>;
  workerId: string;
  logger: Logger;
  intervalMs: number;
  /**
   * How long a worker's heartbeat must stay missing before its containers are removed, ms: a
   * missed heartbeat alone may be a paused or starved worker whose steps still run.
   */
  missingGraceMs: number;
  /** The fleet whose containers this reaper judges (see `LABELS.fleet`). */
  fleet?: string;
}

/**
 * Removes step containers whose worker is gone (its heartbeat expired and stayed missing for the
 * grace), periodically. A crashed worker's steps are retried elsewhere by the queue; this cleans
 * up after it.
 */
export class OrphanReaper {
  readonly #deps: OrphanReaperDeps;
  readonly #sweeps: PeriodicSweep<string[]>;
  readonly #missing: MissingHeartbeats;

  constructor(deps: OrphanReaperDeps) {
    this.#deps = deps;
    this.#missing = new MissingHeartbeats(deps.missingGraceMs);
    this.#sweeps = new PeriodicSweep(() => this.#sweep(), deps.intervalMs);
  }

  async start(): Promise<void> {
    await this.reap();
    this.#sweeps.start();
  }

  /** One sweep; concurrent calls share the sweep in progress. */
  reap(): Promise<string[]> {
    return this.#sweeps.run();
  }

  stop(): Promise<void> {
    return this.#sweeps.stop();
  }

  async #sweep(): Promise<string[]> {
    const { sandbox, registry, workerId, logger } = this.#deps;
    const asked = new Set<string>();
    try {
      const removed = await sandbox.reapOrphans({
        selfWorkerId: workerId,
        // "Alive" to the sandbox until the heartbeat has stayed missing for the grace.
        isWorkerAlive: async (id) => {
          asked.add(id);
          return !this.#missing.isGone(id, await registry.isAlive(id));
        },
        fleet: this.#deps.fleet,
      });
      this.#missing.keepOnly(asked);
      if (removed.length > 0) logger.info({ removed }, 'orphan containers removed');
      return removed;
    } catch (error) {
      logger.warn({ err: error }, 'orphan sweep failed');
      return [];
    }
  }
}
