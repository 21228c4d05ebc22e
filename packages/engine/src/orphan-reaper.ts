import type { Logger } from '@sandfleet/logging';
import type { WorkerRegistry } from '@sandfleet/queue';
import type { Sandbox } from '@sandfleet/sandbox';
import { PeriodicSweep } from './periodic-sweep.js';

export interface OrphanReaperDeps {
  sandbox: Sandbox;
  registry: Pick<WorkerRegistry, 'isAlive'>;
  workerId: string;
  logger: Logger;
  intervalMs: number;
  /** The fleet whose containers this reaper judges (see `LABELS.fleet`). */
  fleet?: string;
}

/**
 * Removes step containers whose worker is gone (its heartbeat expired): at start and then
 * periodically. A crashed worker's steps are retried elsewhere by the queue; this cleans up after it.
 */
export class OrphanReaper {
  readonly #deps: OrphanReaperDeps;
  readonly #sweeps: PeriodicSweep<string[]>;

  constructor(deps: OrphanReaperDeps) {
    this.#deps = deps;
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
    try {
      const removed = await sandbox.reapOrphans({
        selfWorkerId: workerId,
        isWorkerAlive: (id) => registry.isAlive(id),
        fleet: this.#deps.fleet,
      });
      if (removed.length > 0) logger.info({ removed }, 'orphan containers removed');
      return removed;
    } catch (error) {
      logger.warn({ err: error }, 'orphan sweep failed');
      return [];
    }
  }
}
