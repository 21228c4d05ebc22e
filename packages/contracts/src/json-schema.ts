import * as z from 'zod';
import { StepSpec } from './step-spec.js';

/** `$id` of the committed StepSpec v1 JSON Schema. */
export const STEP_SPEC_SCHEMA_ID = 'https://sandfleet.dev/schema/step-spec.v1.json';

/** JSON Schema (draft 2020-12) of what a producer may write as StepSpec v1 job data. */
export function stepSpecJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(StepSpec, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return { ...schema, $id: STEP_SPEC_SCHEMA_ID, title: 'Sandfleet StepSpec v1' };
}
