import type { StepSpec } from '@sandfleet/contracts';
import type { StepRepository, UnchangedStep } from '@sandfleet/db';
import type { Logger } from '@sandfleet/logging';
import type { StepJobState, StepQueue } from '@sandfleet/queue';
import type { Sandbox } from '@sandfleet/sandbox';
import type { StepOutcomes } from '@sandfleet/steps';
import { PeriodicSweep } from './periodic-sweep.js';

/** What the reconciler repaired, by kind (also the `kind` label of its metric). */
export type ReconcileRepair = 'queued_without_job' | 'running_without_job' | 'lost';

export interface StepReconcilerDeps {
  steps: Pick<StepRepository, 'listUnchangedSince' | 'markQueued'>;
  queue: Pick<StepQueue, 'enqueue' | 'jobState'>;
  sandbox: Pick<Sandbox, 'listContainers'>;
  /** Ends a step that cannot be queued again in `error`. */
  outcomes: Pick<StepOutcomes, 'endInError'>;
  logger: Logger;
  /** Between sweeps, ms. */
  intervalMs: number;
  /**
   * A step is judged only when its row has not changed for this long, ms: longer than an enqueue
   * takes between its row and its job, and than a worker takes between its container and its row.
   */
  staleAfterMs: number;
  /** Told of every repair (metrics). */
  onRepair?: (kind: ReconcileRepair) => void;
}

/** What one sweep did. */
export type ReconcileReport = Record<ReconcileRepair, string[]>;

/**
 * PostgreSQL is the record of accepted steps: this puts back the job of any step whose row says
 * `queued` but whose job Redis no longer has (Redis lost data, or a producer died between the row
 * and the job), and of any `running` step whose job and container are both gone. A step that
 * cannot be queued again (its file contents are no longer stored) ends in `error` as `STEP_LOST`,
 * never silently. Safe in every worker at once: adding a job is idempotent by step id, and row
 * changes are conditional.
 */
export class StepReconciler {
  readonly #deps: StepReconcilerDeps;
  readonly #sweeps: PeriodicSweep<ReconcileReport>;

  constructor(deps: StepReconcilerDeps) {
    this.#deps = deps;
    this.#sweeps = new PeriodicSweep(() => this.#sweep(), deps.intervalMs);
  }

  start(): void {
    this.#sweeps.start();
  }

  /** One sweep; concurrent calls share the sweep in progress. Never throws. */
  reconcile(): Promise<ReconcileReport> {
    return this.#sweeps.run();
  }

  stop(): Promise<void> {
    return this.#sweeps.stop();
  }

  async #sweep(): Promise<ReconcileReport> {
    const report: ReconcileReport = { queued_without_job: [], running_without_job: [], lost: [] };
    const { steps, logger, staleAfterMs } = this.#deps;
    try {
      const updatedBefore = new Date(Date.now() - staleAfterMs);
      for (const step of await steps.listUnchangedSince({ status: 'queued', updatedBefore })) {
        if (await this.#jobMissing(step)) await this.#requeue(step, 'queued_without_job', report);
      }
      for (const step of await steps.listUnchangedSince({ status: 'running', updatedBefore })) {
        if ((await this.#jobMissing(step)) && !(await this.#hasContainer(step.record.id))) {
          const back = {
            id: step.record.id,
            error: 'job and container lost; queued again',
            fromStatus: 'running' as const,
          };
          if (await steps.markQueued(back)) await this.#requeue(step, 'running_without_job', report);
        }
      }
    } catch (error) {
      logger.warn({ err: error }, 'reconcile sweep failed');
    }
    return report;
  }

  async #jobMissing(step: UnchangedStep): Promise<boolean> {
    const state: StepJobState = await this.#deps.queue.jobState(step.record.id);
    return state === 'unknown';
  }

  async #hasContainer(stepId: string): Promise<boolean> {
    return (await this.#deps.sandbox.listContainers({ stepId })).length > 0;
  }

  async #requeue(step: UnchangedStep, kind: ReconcileRepair, report: ReconcileReport): Promise<void> {
    const { logger, onRepair } = this.#deps;
    const stepId = step.record.id;
    if (step.spec === undefined) {
      await this.#endLost(stepId);
      report.lost.push(stepId);
      onRepair?.('lost');
      return;
    }
    await this.#deps.queue.enqueue(withDelayLeft(step, kind));
    report[kind].push(stepId);
    onRepair?.(kind);
    logger.warn({ stepId, kind }, 'step job was missing; queued again');
  }

  async #endLost(stepId: string): Promise<void> {
    const message = 'the step job was lost and its files are no longer stored; enqueue it again';
    if (await this.#deps.outcomes.endInError(stepId, { code: 'STEP_LOST', message }))
      this.#deps.logger.error({ stepId }, 'step job lost and cannot be queued again; step ended in error');
  }
}

/**
 * The spec to queue again, with only the delay still to serve: none for a step that already ran,
 * the rest of it (from the row's creation) for one that was waiting.
 */
function withDelayLeft(step: UnchangedStep, kind: ReconcileRepair): StepSpec & { id: string } {
  const { delayMs, ...spec } = step.spec as StepSpec & { id: string };
  if (delayMs === undefined || kind === 'running_without_job') return spec;
  const left = step.record.createdAt.getTime() + delayMs - Date.now();
  return left > 0 ? { ...spec, delayMs: Math.ceil(left) } : spec;
}
