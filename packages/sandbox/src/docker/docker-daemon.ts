import { setTimeout as sleep } from 'node:timers/promises';
import type { ErrorContext } from '@sandfleet/contracts';
import type Docker from 'dockerode';
import { SandboxError } from '../errors.js';

/** Options of {@link DockerDaemon}. */
export interface DockerDaemonOptions {
  /** How long runs wait for an unreachable engine to come back before giving up, ms. */
  returnWithinMs: number;
  /** Between pings while waiting, ms. @defaultValue 250 */
  pollMs?: number;
}

/**
 * The engine as runs see it across its restarts: one shared wait for it to answer again (runs
 * whose connection broke, steps that arrive while it is down).
 */
export class DockerDaemon {
  private waiting: Promise<boolean> | undefined;

  constructor(
    private readonly docker: Docker,
    private readonly options: DockerDaemonOptions,
  ) {}

  /**
   * Resolves once the engine answers, within `returnWithinMs`.
   * @throws SandboxError `DOCKER_UNAVAILABLE` (retryable) when it did not come back in time.
   */
  async waitUntilUp(context: ErrorContext): Promise<void> {
    this.waiting ??= this.poll().finally(() => {
      this.waiting = undefined;
    });
    if (await this.waiting) return;
    throw new SandboxError(
      'DOCKER_UNAVAILABLE',
      `Docker engine unreachable for ${Math.round(this.options.returnWithinMs / 1000)} s`,
      { retryable: true, context },
    );
  }

  private async poll(): Promise<boolean> {
    const deadline = performance.now() + this.options.returnWithinMs;
    for (;;) {
      try {
        await this.docker.ping();
        return true;
      } catch {
        if (performance.now() >= deadline) return false;
        await sleep(this.options.pollMs ?? 250);
      }
    }
  }
}
