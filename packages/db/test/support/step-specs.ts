import { randomBytes } from 'node:crypto';
import { StepSpec, type StepSpecInput } from '@sandfleet/contracts';

/** A unique step id. */
export function stepId(prefix = 'step'): string {
  return `${prefix}-${randomBytes(8).toString('hex')}`;
}

/** A validated spec with id `id`, defaults applied, overridden by `overrides`. */
export function stepSpec(id: string, overrides: Partial<StepSpecInput> = {}): StepSpec {
  return StepSpec.parse({ id, agentId: 'agent-a', command: ['echo', 'hello'], ...overrides });
}
