import { isTerminalStatus, type StepStatus } from '@sandfleet/contracts';
import type { StepRepository } from '@sandfleet/db';
import type { StepQueue } from '@sandfleet/queue';
import type { CancelBus } from '@sandfleet/stream';
import { stepNotFound } from './errors.js';
import type { StepOutcomes } from './step-outcomes.js';
import { assertStepVisible, type Principal } from './step-scope.js';

/** Dependencies of {@link StepCanceller}. */
export interface StepCancellerDeps {
  steps: Pick<StepRepository, 'requestCancel' | 'get'>;
  queue: Pick<StepQueue, 'removeQueued'>;
  cancelBus: Pick<CancelBus, 'publish'>;
  outcomes: Pick<StepOutcomes, 'cancel'>;
}

/** What a cancel request did. */
export interface CancelResult {
  stepId: string;
  /** The status after the request: `cancelled` when it took effect at once. */
  status: StepStatus;
  /** False when the step had already ended. */
  accepted: boolean;
}

/**
 * Cancels steps from any process. A step still in the queue is taken out and ends `cancelled`
 * here; a running one is stopped by its worker, which the cancel flag and a pub/sub nudge reach.
 */
export class StepCanceller {
  readonly #deps: StepCancellerDeps;

  constructor(deps: StepCancellerDeps) {
    this.#deps = deps;
  }

  /**
   * @param principal - who cancels: another agent's step is refused before anything changes.
   * @throws StepsError `STEP_NOT_FOUND` for an unknown id, `FORBIDDEN` for another agent's step.
   */
  async cancel(stepId: string, principal?: Principal): Promise<CancelResult> {
    if (principal?.scope.agents !== undefined) {
      const current = await this.#deps.steps.get(stepId);
      if (!current) throw stepNotFound(stepId);
      assertStepVisible(principal, current.agentId);
    }
    const row = await this.#deps.steps.requestCancel(stepId);
    if (!row) throw stepNotFound(stepId);
    if (isTerminalStatus(row.status)) return { stepId, status: row.status, accepted: false };
    if (await this.#deps.queue.removeQueued(stepId)) {
      await this.#deps.outcomes.cancel(stepId);
      return { stepId, status: 'cancelled', accepted: true };
    }
    // Running, or about to be picked up: the worker checks the flag before it starts the container.
    await this.#deps.cancelBus.publish(stepId);
    return { stepId, status: row.status, accepted: true };
  }
}
