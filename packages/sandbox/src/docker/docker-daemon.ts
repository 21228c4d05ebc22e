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
 * whose connection broke, steps that arrive while it is down), and whether it keeps containers
 * running while it restarts (`live-restore`).
 */
export class DockerDaemon {
  private waiting: Promise<boolean> | undefined;
  private liveRestoreKnown: Promise<boolean> | undefined;

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

  /** Whether the engine keeps containers running while it restarts; read once per reconnection. */
  liveRestore(): Promise<boolean> {
    this.liveRestoreKnown ??= this.docker.info().then(
      (info: { LiveRestoreEnabled?: boolean }) => info.LiveRestoreEnabled === true,
      () => {
        this.liveRestoreKnown = undefined;
        return false;
      },
    );
    return this.liveRestoreKnown;
  }

  private async poll(): Promise<boolean> {
    const deadline = performance.now() + this.options.returnWithinMs;
    for (;;) {
      try {
        await this.docker.ping();
        // The engine may have been restarted with other settings.
        this.liveRestoreKnown = undefined;
        return true;
      } catch {
        if (performance.now() >= deadline) return false;
        await sleep(this.options.pollMs ?? 250);
      }
    }
  }
}
