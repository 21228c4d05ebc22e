import type { SandboxStopReason } from '@sandfleet/sandbox';

/** The steps this worker is running now, each with the controller that stops its container. */
export class RunningSteps {
  readonly #controllers = new Map<string, AbortController>();

  register(stepId: string): AbortSignal {
    const controller = new AbortController();
    this.#controllers.set(stepId, controller);
    return controller.signal;
  }

  /**
   * Forgets a step's controller; with `signal`, only when it is still the registered one (a
   * redelivered step may have registered again while an earlier handler was ending).
   */
  unregister(stepId: string, signal?: AbortSignal): void {
    if (signal && this.#controllers.get(stepId)?.signal !== signal) return;
    this.#controllers.delete(stepId);
  }

  has(stepId: string): boolean {
    return this.#controllers.has(stepId);
  }

  get size(): number {
    return this.#controllers.size;
  }

  /** Stops one step's container; false when the step does not run here. */
  stop(stepId: string, reason: SandboxStopReason): boolean {
    const controller = this.#controllers.get(stepId);
    if (!controller) return false;
    controller.abort(reason);
    return true;
  }

  stopAll(reason: SandboxStopReason): number {
    for (const controller of this.#controllers.values()) controller.abort(reason);
    return this.#controllers.size;
  }
}
