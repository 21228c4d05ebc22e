import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp, testToken } from './support/test-api.js';
import { TestFleet } from './support/test-fleet.js';

interface Turn {
  role: 'user' | 'assistant';
  content: string;
  stepId: string;
}

describe('chat sessions over the HTTP API', () => {
  let fleet: TestFleet;
  let app: TestApp;
  let token: string;
  const auth = () => ({ authorization: `Bearer ${token}` });

  beforeAll(async () => {
    fleet = await TestFleet.create();
    await fleet.startWorker();
    token = testToken();
    app = await buildTestApp(fleet, { tokens: [token] });
  });

  afterEach(async () => {
    expect(await fleet.leftovers()).toEqual([]);
  });

  afterAll(async () => {
    await app?.close();
    await fleet?.close();
  });

  it('answers three messages, each step seeing the ones before, and lists all six in order', async () => {
    const session = `chat-${fleet.id}`;
    const agentId = fleet.agentId();
    const script =
      'n=$(grep -o \'"role"\' "$SANDFLEET_CHAT_HISTORY_FILE" | wc -l); echo "re: $SANDFLEET_INPUT (saw $n)"';
    for (const content of ['hello', 'how are you', 'bye']) {
      const response = await app.inject({
        method: 'POST',
        url: `/v1/chats/${session}/messages`,
        headers: auth(),
        payload: { agentId, content, command: { script } },
      });
      expect(response.statusCode).toBe(202);
      const { id } = response.json<{ id: string }>();
      expect(await fleet.terminal(id)).toMatchObject({
        status: 'succeeded',
        kind: 'chat',
        chatSessionId: session,
      });
    }
    const list = await app.inject({ method: 'GET', url: `/v1/chats/${session}/messages`, headers: auth() });
    expect(list.statusCode).toBe(200);
    const turns = list.json<{ items: Turn[] }>().items;
    expect(turns.map((t) => [t.role, t.content])).toEqual([
      ['user', 'hello'],
      ['assistant', 're: hello (saw 0)'],
      ['user', 'how are you'],
      ['assistant', 're: how are you (saw 2)'],
      ['user', 'bye'],
      ['assistant', 're: bye (saw 4)'],
    ]);
  });

  it('refuses a message that sets what the session sets, naming the field', async () => {
    const response = await app.inject({
      method: 'POST',
      url: `/v1/chats/chat-${fleet.id}/messages`,
      headers: auth(),
      payload: { agentId: fleet.agentId(), content: 'x', command: ['true'], kind: 'task' },
    });
    expect(response.statusCode).toBe(400);
    const body = response.json<{ error: { code: string; issues: { path: string }[] } }>();
    expect(body.error.code).toBe('VALIDATION_FAILED');
    expect(body.error.issues.map((i) => i.path)).toContain('kind');
  });

  it('needs a token for chat routes', async () => {
    const response = await app.inject({ method: 'GET', url: '/v1/chats/any/messages' });
    expect(response.statusCode).toBe(401);
  });
});
