import type { StepRecord, StepRepository } from '@sandfleet/db';
import { stepNotFound } from './errors.js';

/** Dependencies of {@link getStep}. */
export interface GetStepDeps {
  steps: Pick<StepRepository, 'get'>;
}

/**
 * The step's row.
 * @throws StepsError `STEP_NOT_FOUND` when there is none.
 */
export async function getStep(deps: GetStepDeps, stepId: string): Promise<StepRecord> {
  const row = await deps.steps.get(stepId);
  if (!row) throw stepNotFound(stepId);
  return row;
}
