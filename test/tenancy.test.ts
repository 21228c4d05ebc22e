import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JOB_NAME } from '@sandfleet/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryLogger, type RunningApi, startTestApi, testToken } from './support/test-api.js';
import { TEST_IMAGE, TestFleet } from './support/test-fleet.js';

interface ErrorAnswer {
  error: { code: string; message: string };
}

const HOUR_MS = 3_600_000;

/**
 * The tenancy boundary as a tenant would probe it: a token scoped to `team-a-*` tries another
 * team's agents, secrets, images, steps, events and chat sessions, over the real API (started
 * from the tokens file alone) with a real worker; what it got is checked in the answers and in
 * PostgreSQL.
 */
describe('scoped API tokens', () => {
  let fleet: TestFleet;
  let api: RunningApi;
  let dir: string;
  const log = memoryLogger();
  const tokens = {
    a: testToken(),
    b: testToken(),
    admin: testToken(),
    queued: testToken(),
    rate: testToken(),
    reader: testToken(),
  };
  let agentA: string;
  let agentB: string;

  const call = async (token: string, method: string, path: string, body?: unknown) => {
    const response = await fetch(`${api.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, json: text ? JSON.parse(text) : undefined };
  };
  const delayed = (agentId: string, extra: Record<string, unknown> = {}) => ({
    agentId,
    command: ['true'],
    delayMs: HOUR_MS,
    ...extra,
  });

  beforeAll(async () => {
    fleet = await TestFleet.create();
    fleet.team('team-a');
    fleet.team('team-b');
    await fleet.startWorker();
    agentA = fleet.agentId(`team-a-${fleet.id}-one`);
    agentB = fleet.agentId(`team-b-${fleet.id}-one`);
    dir = mkdtempSync(join(tmpdir(), 'sandfleet-tenancy-'));
    const file = join(dir, 'tokens.json');
    const image = TEST_IMAGE.split(':')[0];
    writeFileSync(
      file,
      JSON.stringify({
        tokens: [
          {
            name: 'team-a',
            token: tokens.a,
            agents: [`team-a-${fleet.id}-*`],
            secrets: ['TEAM_A_*'],
            images: [`${image}:*`],
          },
          { name: 'team-b', token: tokens.b, agents: [`team-b-${fleet.id}-*`] },
          { name: 'admin', token: tokens.admin },
          {
            name: 'team-q',
            token: tokens.queued,
            agents: ['team-q-*'],
            quotas: { maxQueued: 2, maxJobBytes: 1024 },
          },
          { name: 'team-r', token: tokens.rate, agents: ['team-r-*'], quotas: { createsPerMinute: 2 } },
          // Team a's vault, for reading only.
          {
            name: 'a-reader',
            token: tokens.reader,
            agents: [`team-a-${fleet.id}-*`],
            team: 'team-a',
            vault: 'read',
          },
        ],
      }),
    );
    // No SANDFLEET_API_TOKENS: the file alone is enough.
    api = await startTestApi(fleet, { SANDFLEET_API_TOKENS_FILE: file }, log.logger);
  });

  afterAll(async () => {
    await api?.close();
    await fleet?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('refuses another agent, another secret and another image with 403 naming the field, writing nothing', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [delayed(agentB), 'agentId: not allowed for token team-a'],
      [delayed(agentA, { secrets: ['TEAM_A_KEY', 'TEAM_B_KEY'] }), 'secrets.1: not allowed for token team-a'],
      [delayed(agentA, { image: 'alpine:3.20' }), 'image: not allowed for token team-a'],
      [
        delayed(agentA, { image: undefined }),
        'image: must be named (the default image is not in scope) for token team-a',
      ],
    ];
    for (const [spec, message] of cases) {
      const id = fleet.stepId();
      const answer = await call(tokens.a, 'POST', '/v1/steps', { id, ...spec });
      expect(answer.status).toBe(403);
      expect((answer.json as ErrorAnswer).error).toEqual({ code: 'FORBIDDEN', message });
      expect(await fleet.db.steps.get(id)).toBeUndefined();
      expect(await fleet.queue.jobState(id)).toBe('unknown');
    }
    const ok = await call(
      tokens.a,
      'POST',
      '/v1/steps',
      delayed(agentA, { image: TEST_IMAGE, secrets: ['TEAM_A_KEY'] }),
    );
    expect(ok.status).toBe(202);
  });

  it('refuses another agent’s step, its events and its cancel with 403, and changes nothing', async () => {
    const theirs = await call(tokens.b, 'POST', '/v1/steps', delayed(agentB));
    expect(theirs.status).toBe(202);
    const { id } = theirs.json as { id: string };
    const read = await call(tokens.a, 'GET', `/v1/steps/${id}`);
    expect(read.status).toBe(403);
    expect((read.json as ErrorAnswer).error).toEqual({
      code: 'FORBIDDEN',
      message: 'stepId: not allowed for token team-a',
    });
    expect(JSON.stringify(read.json)).not.toContain(agentB);
    const events = await call(tokens.a, 'GET', `/v1/steps/${id}/events`);
    expect(events.status).toBe(403);
    expect((events.json as ErrorAnswer).error.code).toBe('FORBIDDEN');
    const cancel = await call(tokens.a, 'POST', `/v1/steps/${id}/cancel`);
    expect(cancel.status).toBe(403);
    const row = await fleet.db.steps.get(id);
    expect(row).toMatchObject({ status: 'queued', cancelRequestedAt: null });
    expect(await fleet.queue.jobState(id)).toBe('delayed');
    // The owner still reads it, with the producer recorded.
    const own = await call(tokens.b, 'GET', `/v1/steps/${id}`);
    expect(own.status).toBe(200);
    expect(own.json).toMatchObject({ id, agentId: agentB, producer: 'team-b' });
  });

  it('lists only the token’s own agents, filtered in SQL so pages stay full', async () => {
    const agentA2 = fleet.agentId(`team-a-${fleet.id}-two`);
    const mine: string[] = [];
    for (const agentId of [agentA, agentA2, agentA, agentA2, agentA]) {
      const answer = await call(tokens.a, 'POST', '/v1/steps', delayed(agentId, { image: TEST_IMAGE }));
      mine.push((answer.json as { id: string }).id);
      await call(tokens.b, 'POST', '/v1/steps', delayed(agentB)); // interleaved: pages must skip them
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const query = `/v1/steps?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const page = await call(tokens.a, 'GET', query);
      expect(page.status).toBe(200);
      const body = page.json as { items: { id: string; agentId: string }[]; nextCursor: string | null };
      if (body.nextCursor) expect(body.items).toHaveLength(2);
      for (const item of body.items) expect(item.agentId.startsWith(`team-a-${fleet.id}-`)).toBe(true);
      seen.push(...body.items.map((item) => item.id));
      cursor = body.nextCursor ?? undefined;
      pages += 1;
    } while (cursor && pages < 20);
    expect(seen).toEqual(expect.arrayContaining(mine));
    expect(new Set(seen).size).toBe(seen.length);
    // Asking for another agent by name finds nothing either.
    const filtered = await call(tokens.a, 'GET', `/v1/steps?agentId=${agentB}`);
    expect((filtered.json as { items: unknown[] }).items).toEqual([]);
    // An unrestricted token sees both teams.
    const all = await call(tokens.admin, 'GET', '/v1/steps?limit=500');
    const agents = new Set((all.json as { items: { agentId: string }[] }).items.map((i) => i.agentId));
    expect(agents).toEqual(new Set([agentA, agentA2, agentB]));
  });

  it('records the token’s name as the producer, logs it as tokenName and counts its requests; a raw producer leaves it null', async () => {
    const answer = await call(tokens.a, 'POST', '/v1/steps', delayed(agentA, { image: TEST_IMAGE }));
    const { id } = answer.json as { id: string };
    expect((await fleet.db.steps.get(id))?.producer).toBe('team-a');
    const listed = await call(tokens.a, 'GET', `/v1/steps/${id}`);
    expect((listed.json as { producer: string }).producer).toBe('team-a');
    const lines = log.lines.map((line) => JSON.parse(line) as { tokenName?: string; msg?: string });
    expect(lines.some((line) => line.tokenName === 'team-a')).toBe(true);
    expect(log.lines.join('\n')).not.toContain(tokens.a);
    // Metrics count the token's requests by its name, refusals included.
    await call(tokens.a, 'POST', '/v1/steps', delayed(agentB));
    const metrics = await fetch(`${api.url}/metrics`, {
      headers: { authorization: `Bearer ${tokens.admin}` },
    });
    const text = await metrics.text();
    expect(text).toMatch(
      /^sandfleet_http_requests_by_token_total\{token="team-a",status_code="202"\} [1-9]\d*$/m,
    );
    expect(text).toMatch(
      /^sandfleet_http_requests_by_token_total\{token="team-a",status_code="403"\} [1-9]\d*$/m,
    );
    expect(text).not.toContain(tokens.a);
    const raw = await fleet.queue.enqueue(delayed(agentB));
    expect((await fleet.db.steps.get(raw.id))?.producer).toBeNull();
  });

  it('answers 429 with Retry-After past the queued, job-size and create-rate quotas', async () => {
    const q = fleet.agentId(`team-q-${fleet.id}`);
    for (let i = 0; i < 2; i += 1)
      expect((await call(tokens.queued, 'POST', '/v1/steps', delayed(q))).status).toBe(202);
    const third = await call(tokens.queued, 'POST', '/v1/steps', delayed(q));
    expect(third.status).toBe(429);
    expect((third.json as ErrorAnswer).error.code).toBe('RATE_LIMITED');
    expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await fleet.db.steps.countUnfinished('team-q')).toBe(2);
    const big = await call(tokens.queued, 'POST', '/v1/steps', delayed(q, { input: 'x'.repeat(2000) }));
    expect(big.status).toBe(429);
    expect((big.json as ErrorAnswer).error.message).toMatch(/over 1024/);

    const r = fleet.agentId(`team-r-${fleet.id}`);
    for (let i = 0; i < 2; i += 1)
      expect((await call(tokens.rate, 'POST', '/v1/steps', delayed(r))).status).toBe(202);
    const fast = await call(tokens.rate, 'POST', '/v1/steps', delayed(r));
    expect(fast.status).toBe(429);
    const retryAfter = Number(fast.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(await fleet.db.steps.countUnfinished('team-r')).toBe(2);
  });

  it("keeps each team's shared vault to the team, writable only when the spec asks and the token allows", async () => {
    const plan = `team a plans ${fleet.id}`;
    const run = async (token: string, agentId: string, script: string, sharedVault?: object) => {
      const answer = await call(token, 'POST', '/v1/steps', {
        agentId,
        image: TEST_IMAGE,
        command: { script },
        ...(sharedVault ? { sharedVault } : {}),
      });
      expect(answer.status).toBe(202);
      return fleet.terminal((answer.json as { id: string }).id);
    };
    const wrote = await run(tokens.a, agentA, `echo "${plan}" > vault/shared/plan.md`, { access: 'write' });
    expect(wrote).toMatchObject({ status: 'succeeded' });
    expect(wrote.spec.sharedVault).toEqual({ team: 'team-a', access: 'write' });

    // Team b, asking for write, gets its own (empty) vault: nothing of team a's, whatever it looks for.
    const probe =
      'ls -A vault/shared; cat vault/shared/plan.md 2>/dev/null; grep -c "vault" /proc/mounts; echo end';
    const other = await run(tokens.b, agentB, probe, { access: 'write' });
    expect(other).toMatchObject({ status: 'succeeded', output: '1\nend\n' });
    // Nor can it name team a's vault, nor can a read-only token of team a write it.
    const forged = await call(
      tokens.b,
      'POST',
      '/v1/steps',
      delayed(agentB, { sharedVault: { team: 'team-a' } }),
    );
    expect(forged.status).toBe(403);
    expect((forged.json as ErrorAnswer).error).toEqual({
      code: 'FORBIDDEN',
      message: 'sharedVault.team: not allowed for token team-b',
    });
    const agentA2 = fleet.agentId(`team-a-${fleet.id}-two`);
    const upgrade = await call(tokens.reader, 'POST', '/v1/steps', {
      ...delayed(agentA2, { image: TEST_IMAGE }),
      sharedVault: { access: 'write' },
    });
    expect(upgrade.status).toBe(403);
    expect((upgrade.json as ErrorAnswer).error.message).toBe(
      'sharedVault.access: write not allowed for token a-reader',
    );
    // The reader reads team a's vault and changes none of it.
    const tamper = `cat vault/shared/plan.md; for f in plan.md new.md; do (echo x >> vault/shared/$f) 2>/dev/null && echo "wrote $f"; done; true`;
    expect(await run(tokens.reader, agentA2, tamper)).toMatchObject({
      status: 'succeeded',
      output: `${plan}\n`,
    });
    expect(await run(tokens.a, agentA, 'ls -A vault/shared; cat vault/shared/plan.md')).toMatchObject({
      output: `plan.md\n${plan}\n`,
    });
  });

  it('keeps a chat session to the agent that started it: no history reaches another agent', async () => {
    const session = `chat-${fleet.id}`;
    const secretTurn = `team a plans ${fleet.id}`;
    const first = await call(tokens.a, 'POST', `/v1/chats/${session}/messages`, {
      agentId: agentA,
      image: TEST_IMAGE,
      content: secretTurn,
      command: { script: 'echo "re: $SANDFLEET_INPUT"' },
    });
    expect(first.status).toBe(202);
    expect(await fleet.terminal((first.json as { id: string }).id)).toMatchObject({ status: 'succeeded' });

    // Through the API: another agent naming the session is refused; the token cannot read it.
    const join = await call(tokens.b, 'POST', `/v1/chats/${session}/messages`, {
      agentId: agentB,
      content: 'hi',
      command: { script: 'cat "$SANDFLEET_CHAT_HISTORY_FILE"' },
    });
    expect(join.status).toBe(409);
    expect((join.json as ErrorAnswer).error.code).toBe('CHAT_SESSION_CONFLICT');
    expect(JSON.stringify(join.json)).not.toContain(agentA);
    const read = await call(tokens.b, 'GET', `/v1/chats/${session}/messages`);
    expect(read.status).toBe(403);
    expect(JSON.stringify(read.json)).not.toContain(secretTurn);
    // Nor through /v1/steps with kind chat.
    const asStep = await call(tokens.b, 'POST', '/v1/steps', {
      agentId: agentB,
      kind: 'chat',
      chatSessionId: session,
      input: 'hi',
      command: { script: 'cat "$SANDFLEET_CHAT_HISTORY_FILE"' },
    });
    expect(asStep.status).toBe(409);

    // A raw BullMQ job skips the API: the worker ends it in error before the container sees history.
    const rawId = fleet.stepId();
    await fleet.queue.queue.add(
      JOB_NAME,
      {
        id: rawId,
        agentId: agentB,
        kind: 'chat',
        chatSessionId: session,
        input: 'let me in',
        command: { script: 'cat "$SANDFLEET_CHAT_HISTORY_FILE"; echo read-history' },
      },
      { jobId: rawId },
    );
    const row = await fleet.terminal(rawId);
    expect(row).toMatchObject({ status: 'error', errorCode: 'CHAT_SESSION_CONFLICT' });
    expect(row.output).not.toContain(secretTurn);
    expect(row.output).not.toContain('read-history');
    const turns = await fleet.db.chats.list(session);
    expect(turns.map((t) => [t.role, t.agentId])).toEqual([
      ['user', agentA],
      ['assistant', agentA],
    ]);
    expect(JSON.stringify(row.result ?? null)).not.toContain(secretTurn);
    // The owner still reads its session.
    const own = await call(tokens.a, 'GET', `/v1/chats/${session}/messages`);
    expect((own.json as { items: { content: string }[] }).items.map((i) => i.content)).toEqual([
      secretTurn,
      `re: ${secretTurn}`,
    ]);
  });
});
