import type { StepRecord, StepRepository } from '@sandfleet/db';
import { stepNotFound } from './errors.js';
import { assertStepVisible, type Principal } from './step-scope.js';

/** Dependencies of {@link getStep}. */
export interface GetStepDeps {
  steps: Pick<StepRepository, 'get'>;
}

/**
 * The step's row, when `principal` (if any) may see its agent.
 * @throws StepsError `STEP_NOT_FOUND` when there is none, `FORBIDDEN` for another agent's step.
 */
export async function getStep(deps: GetStepDeps, stepId: string, principal?: Principal): Promise<StepRecord> {
  const row = await deps.steps.get(stepId);
  if (!row) throw stepNotFound(stepId);
  assertStepVisible(principal, row.agentId);
  return row;
}
