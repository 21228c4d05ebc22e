import { setTimeout as sleep } from 'node:timers/promises';
import { LABELS } from '@sandfleet/contracts';
import type Docker from 'dockerode';
import { dockerStatus } from './docker-errors.js';
import { EGRESS_LABEL } from './egress-labels.js';

/** How long a lock may be held before a waiter takes it as left by a dead process, ms. */
const STALE_MS = 30_000;
/** How long a waiter waits in all before it gives up, ms. */
const WAIT_MS = 60_000;

/**
 * A lock across every process using one Docker engine, for lookups-or-creates the engine does not
 * make atomic (two `createNetwork` calls with one name both succeed). The lock is a container of
 * a fixed name, created and never started: the engine reserves container names atomically, so of
 * racing creates exactly one succeeds and the others get 409. The holder removes it; one left by
 * a process that died is taken over once it is older than {@link STALE_MS}.
 */
export class EgressLock {
  constructor(
    private readonly docker: Docker,
    /** Container name of the lock. */
    private readonly name: string,
    /** Any image present on the engine (the container never runs). */
    private readonly image: string,
  ) {}

  /** Runs `fn` while holding the lock. */
  async withLock<T>(fn: () => Promise<T>): Promise<T> {
    const id = await this.acquire();
    try {
      return await fn();
    } finally {
      await this.docker
        .getContainer(id)
        .remove({ force: true })
        .catch(() => undefined);
    }
  }

  private async acquire(): Promise<string> {
    const deadline = Date.now() + WAIT_MS;
    for (let attempt = 0; ; attempt++) {
      try {
        const container = await this.docker.createContainer({
          name: this.name,
          Image: this.image,
          Entrypoint: ['/bin/true'],
          Labels: { [LABELS.managed]: 'true', [EGRESS_LABEL]: 'lock' },
          HostConfig: { NetworkMode: 'none', AutoRemove: false },
        });
        return container.id;
      } catch (error) {
        if (dockerStatus(error) !== 409) throw error;
      }
      await this.takeOverIfStale();
      if (Date.now() > deadline) throw new Error(`lock ${this.name} held for more than ${WAIT_MS} ms`);
      await sleep(Math.min(200, 20 * 2 ** Math.min(attempt, 4)) * (0.5 + Math.random()));
    }
  }

  private async takeOverIfStale(): Promise<void> {
    const held = await this.docker
      .getContainer(this.name)
      .inspect()
      .catch(() => undefined);
    if (!held || Date.now() - Date.parse(held.Created) < STALE_MS) return;
    // By id: if another waiter took it over first, this removes nothing of theirs.
    await this.docker
      .getContainer(held.Id)
      .remove({ force: true })
      .catch(() => undefined);
  }
}
