import type { WarmHint } from '@sandfleet/contracts';
import { describe, expect, it } from 'vitest';
import type { Principal } from './step-scope.js';
import { warmAgent } from './warm-agent.js';

const teamA: Principal = { name: 'team-a', scope: { agents: ['team-a-*'], images: ['img:*'] } };

/** What the queue was given: the use case's logic is all that is under test here. */
function hints() {
  const added: WarmHint[] = [];
  return { added, add: async (hint: WarmHint) => void added.push(hint) };
}

describe('warmAgent', () => {
  it('queues the hint of the path and the body, which may be left out', async () => {
    const deps = { hints: hints() };
    expect(await warmAgent(deps, 'alice', undefined)).toEqual({ agentId: 'alice', accepted: true });
    await warmAgent(deps, 'team-a-1', { image: 'img:2' }, { principal: teamA });
    expect(deps.hints.added).toEqual([{ agentId: 'alice' }, { agentId: 'team-a-1', image: 'img:2' }]);
  });

  it('names every bad field at once and queues nothing', async () => {
    const deps = { hints: hints() };
    await expect(warmAgent(deps, 'Bad Agent', { image: 'NOT AN IMAGE', agentId: 'x' })).rejects.toMatchObject(
      {
        code: 'VALIDATION_FAILED',
        issues: [
          { path: 'agentId', message: expect.stringContaining('must match') },
          { path: 'image', message: 'must be a Docker image reference' },
          { path: 'agentId', message: 'is not a known field' },
        ],
      },
    );
    expect(deps.hints.added).toEqual([]);
  });

  it('refuses an agent or an image outside the token’s scope as a step’s, and an unnamed image to an image-scoped token', async () => {
    const deps = { hints: hints() };
    const refusal = (agentId: string, body?: object) =>
      warmAgent(deps, agentId, body, { principal: teamA }).then(
        () => undefined,
        (error: { code: string; message: string }) => [error.code, error.message],
      );
    expect(await refusal('team-b-1', { image: 'img:1' })).toEqual([
      'FORBIDDEN',
      'agentId: not allowed for token team-a',
    ]);
    expect(await refusal('team-a-1', { image: 'other:1' })).toEqual([
      'FORBIDDEN',
      'image: not allowed for token team-a',
    ]);
    expect((await refusal('team-a-1'))?.[1]).toMatch(/^image: must be named/);
    expect(deps.hints.added).toEqual([]);
  });
});
