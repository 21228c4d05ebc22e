import { describe, expect, it } from 'vitest';
import { parseOrThrow } from './parse.js';
import { WarmHint, WarmHintBody, warmHintQueueName } from './warm-hint.js';

describe('warm hint contracts', () => {
  it('takes an agent id and an image as a StepSpec takes them', () => {
    expect(WarmHint.parse({ agentId: 'alice', image: 'sandfleet/agent-runtime:1' })).toEqual({
      agentId: 'alice',
      image: 'sandfleet/agent-runtime:1',
    });
    expect(WarmHintBody.parse({})).toEqual({});
  });

  it('names every bad field of a hint, unknown fields too', () => {
    expect(() => parseOrThrow(WarmHint, { agentId: 'Alice', image: 'UPPER', extra: 1 }, 'warm hint')).toThrow(
      expect.objectContaining({
        code: 'VALIDATION_FAILED',
        issues: [
          { path: 'agentId', message: expect.stringContaining('must match') },
          { path: 'image', message: 'must be a Docker image reference' },
          { path: 'extra', message: 'is not a known field' },
        ],
      }),
    );
    expect(WarmHintBody.safeParse({ agentId: 'alice' }).success).toBe(false);
  });

  it("derives a fleet's warm-hints queue from its steps queue", () => {
    expect(warmHintQueueName('steps')).toBe('steps-warm-hints');
  });
});
