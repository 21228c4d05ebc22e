import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SandfleetDatabase } from '../src/index.js';
import { stepId } from './support/step-specs.js';
import { createTestDatabase, disposeTestDatabase } from './support/test-database.js';

describe('chat messages', () => {
  let db: SandfleetDatabase;

  beforeAll(async () => {
    db = createTestDatabase();
    await db.migrate();
  });

  afterAll(async () => {
    await disposeTestDatabase(db);
  });

  it('lists a session’s turns oldest first, apart from other sessions', async () => {
    const [s1, s2] = [stepId(), stepId()];
    await db.chats.append({ sessionId: 'chat-a', agentId: 'ada', role: 'user', content: 'hi', stepId: s1 });
    await db.chats.append({
      sessionId: 'chat-b',
      agentId: 'ada',
      role: 'user',
      content: 'other',
      stepId: s2,
    });
    await db.chats.append({
      sessionId: 'chat-a',
      agentId: 'ada',
      role: 'assistant',
      content: 'hello',
      stepId: s1,
    });
    const turns = await db.chats.list('chat-a');
    expect(turns.map((t) => [t.role, t.content, t.stepId])).toEqual([
      ['user', 'hi', s1],
      ['assistant', 'hello', s1],
    ]);
    expect(turns[0]?.createdAt).toBeInstanceOf(Date);
  });

  it('records each role once per step, so a retried step adds no duplicate turn', async () => {
    const id = stepId();
    const turn = { sessionId: 'chat-c', agentId: 'ada', role: 'user' as const, content: 'once', stepId: id };
    expect(await db.chats.append(turn)).toEqual({ inserted: true });
    expect(await db.chats.append(turn)).toEqual({ inserted: false });
    expect(await db.chats.list('chat-c')).toHaveLength(1);
  });

  it('leaves out the turns of a given step', async () => {
    const [earlier, current] = [stepId(), stepId()];
    await db.chats.append({
      sessionId: 'chat-d',
      agentId: 'ada',
      role: 'user',
      content: 'q1',
      stepId: earlier,
    });
    await db.chats.append({
      sessionId: 'chat-d',
      agentId: 'ada',
      role: 'user',
      content: 'q2',
      stepId: current,
    });
    const prior = await db.chats.list('chat-d', { excludeStepId: current });
    expect(prior.map((t) => t.content)).toEqual(['q1']);
  });
});
