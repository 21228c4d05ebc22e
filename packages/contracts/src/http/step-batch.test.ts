import { describe, expect, it } from 'vitest';
import { SandfleetError, ValidationError } from '../errors.js';
import { parseOrThrow } from '../parse.js';
import { StepBatchItemResult, StepBatchRequest, stepBatchItemError } from './step-batch.js';

describe('stepBatchItemError', () => {
  it('names the item and each bad field of a validation failure', () => {
    const error = new ValidationError('step spec', [
      { path: 'agentId', message: 'is required' },
      { path: 'files.0.path', message: 'must be relative' },
      { path: '', message: 'expected object' },
    ]);
    expect(stepBatchItemError(3, error)).toEqual({
      error: {
        code: 'VALIDATION_FAILED',
        message:
          'steps[3].agentId: is required; steps[3].files.0.path: must be relative; steps[3]: expected object',
      },
    });
  });

  it('puts the item before the field an error names, or before the whole message', () => {
    const forbidden = new SandfleetError('FORBIDDEN', 'agentId: not allowed for token team-a', {
      context: { field: 'agentId' },
    });
    expect(stepBatchItemError(2, forbidden).error.message).toBe(
      'steps[2].agentId: not allowed for token team-a',
    );
    const limited = new SandfleetError('RATE_LIMITED', 'too many for token t', {
      context: { field: 'agentId' },
    });
    expect(stepBatchItemError(0, limited)).toEqual({
      error: { code: 'RATE_LIMITED', message: 'steps[0]: too many for token t' },
    });
  });
});

describe('StepBatchRequest and StepBatchItemResult', () => {
  it('takes any items (each is parsed on its own) but refuses an empty, missing or non-array steps', () => {
    expect(parseOrThrow(StepBatchRequest, { steps: [1, 'x'] }, 'step batch').steps).toHaveLength(2);
    for (const [body, message] of [
      [{ steps: [] }, 'steps: must hold at least one step'],
      [{ steps: {} }, 'steps: must be an array of StepSpecs'],
      [{}, 'steps: is required'],
    ] as const)
      expect(() => parseOrThrow(StepBatchRequest, body, 'step batch')).toThrow(
        `invalid step batch: ${message}`,
      );
  });

  it('reads a result as enqueued or refused, and nothing else', () => {
    expect(StepBatchItemResult.safeParse({ id: 'a', created: true }).success).toBe(true);
    expect(StepBatchItemResult.safeParse({ error: { code: 'FORBIDDEN', message: 'm' } }).success).toBe(true);
    expect(StepBatchItemResult.safeParse({ id: 'a' }).success).toBe(false);
  });
});
