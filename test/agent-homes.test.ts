import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TestFleet } from './support/test-fleet.js';

describe('agent homes and chat sessions', () => {
  let fleet: TestFleet;

  beforeAll(async () => {
    fleet = await TestFleet.create();
    await fleet.startWorker({ SANDFLEET_WORKER_CONCURRENCY: '4', SANDFLEET_AGENT_BUSY_RETRY_MS: '100' });
  });

  afterEach(async () => {
    expect(await fleet.leftovers()).toEqual([]);
  });

  afterAll(async () => {
    await fleet?.close();
  });

  async function run(agentId: string, script: string, extra: Record<string, unknown> = {}) {
    const id = fleet.stepId();
    await fleet.queue.enqueue({ id, agentId, command: { script }, ...extra });
    return fleet.terminal(id);
  }

  it("keeps an agent's files across its steps and hides them from other agents", async () => {
    const [a, b] = [fleet.agentId(), fleet.agentId()];
    expect(await run(a, 'echo remembered > notes.txt')).toMatchObject({ status: 'succeeded' });
    expect(await run(a, 'cat notes.txt')).toMatchObject({ status: 'succeeded', output: 'remembered\n' });
    expect(await run(b, 'test -e notes.txt && echo visible || echo absent')).toMatchObject({
      output: 'absent\n',
    });
  });

  it('shares the team vault between agents, writable only by a step that asks', async () => {
    const [a, b, c] = [fleet.agentId(), fleet.agentId(), fleet.agentId()];
    const note = `note-${fleet.id}.md`;
    const write = { sharedVault: { access: 'write' } };
    expect(await run(a, `echo shared-knowledge > vault/shared/${note}`, write)).toMatchObject({
      status: 'succeeded',
    });
    // A step that did not ask reads the vault and cannot change it.
    expect(
      await run(c, `cat vault/shared/${note}; rm -f vault/shared/${note} 2>/dev/null || echo refused`),
    ).toMatchObject({
      status: 'succeeded',
      output: 'shared-knowledge\nrefused\n',
    });
    expect(await run(b, `cat vault/shared/${note}; rm vault/shared/${note}`, write)).toMatchObject({
      status: 'succeeded',
      output: 'shared-knowledge\n',
    });
  });

  it('runs the steps of one agent one at a time, so they never share its home at once', async () => {
    const agent = fleet.agentId();
    // mkdir is atomic: a second step inside the window would fail with exit code 9.
    const script = 'mkdir busy || exit 9; sleep 1; rmdir busy';
    const ids = [fleet.stepId(), fleet.stepId(), fleet.stepId()];
    await Promise.all(ids.map((id) => fleet.queue.enqueue({ id, agentId: agent, command: { script } })));
    const rows = await Promise.all(ids.map((id) => fleet.terminal(id, 30_000)));
    expect(rows.map((row) => [row.status, row.attempts])).toEqual([
      ['succeeded', 1],
      ['succeeded', 1],
      ['succeeded', 1],
    ]);
    const spans = rows.map((row) => [row.startedAt?.getTime() ?? 0, row.finishedAt?.getTime() ?? 0] as const);
    spans.sort((x, y) => x[0] - y[0]);
    for (let i = 1; i < spans.length; i++)
      expect(spans[i]?.[0]).toBeGreaterThanOrEqual(spans[i - 1]?.[1] ?? 0);
  });

  it('hands each chat step the conversation so far and records its reply', async () => {
    const agent = fleet.agentId();
    const session = `chat-${fleet.id}`;
    // The reply says how many turns came before; busybox has no jq, grep counts them.
    const script =
      'n=$(grep -o \'"role"\' "$SANDFLEET_CHAT_HISTORY_FILE" | wc -l); echo "reply to $SANDFLEET_INPUT after $n turns"';
    for (const message of ['one', 'two', 'three']) {
      const row = await run(agent, script, { kind: 'chat', chatSessionId: session, input: message });
      expect(row.status).toBe('succeeded');
    }
    const turns = await fleet.db.chats.list(session);
    expect(turns.map((t) => [t.role, t.content])).toEqual([
      ['user', 'one'],
      ['assistant', 'reply to one after 0 turns'],
      ['user', 'two'],
      ['assistant', 'reply to two after 2 turns'],
      ['user', 'three'],
      ['assistant', 'reply to three after 4 turns'],
    ]);
  });
});
