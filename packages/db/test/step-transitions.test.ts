import type { TerminalStatus } from '@sandfleet/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NewStep, SandfleetDatabase } from '../src/index.js';
import { stepId, stepSpec } from './support/step-specs.js';
import { createTestDatabase, disposeTestDatabase, withClient } from './support/test-database.js';

describe('step transitions', () => {
  let db: SandfleetDatabase;

  beforeAll(async () => {
    db = createTestDatabase();
    await db.migrate();
  });

  afterAll(async () => {
    await disposeTestDatabase(db);
  });

  async function queued(overrides: Parameters<typeof stepSpec>[1] = {}): Promise<string> {
    const id = stepId();
    await db.steps.insertQueued({ id, spec: stepSpec(id, overrides) });
    return id;
  }

  describe('insertQueued', () => {
    it('records a queued step with the columns derived from its spec', async () => {
      const id = stepId();
      const spec = stepSpec(id, {
        agentId: 'agent-b',
        kind: 'pipeline',
        runId: 'run-1',
        taskId: 'task-1',
        image: 'sandfleet/agent-runtime:dev',
        command: { script: 'echo hi', shell: 'bash' },
        labels: { team: 'core' },
        priority: 7,
        attempts: 4,
      });
      expect(await db.steps.insertQueued({ id, spec })).toEqual({ inserted: true });
      expect(await db.steps.get(id)).toMatchObject({
        id,
        agentId: 'agent-b',
        kind: 'pipeline',
        status: 'queued',
        image: 'sandfleet/agent-runtime:dev',
        command: { script: 'echo hi', shell: 'bash' },
        runId: 'run-1',
        taskId: 'task-1',
        chatSessionId: null,
        labels: { team: 'core' },
        priority: 7,
        attempts: 0,
        maxAttempts: 4,
        workerId: null,
        output: '',
        outputBytes: 0,
        startedAt: null,
        finishedAt: null,
      });
    });

    it('keeps one row when the same id is inserted twice', async () => {
      const id = stepId();
      expect(await db.steps.insertQueued({ id, spec: stepSpec(id) })).toEqual({ inserted: true });
      expect(await db.steps.insertQueued({ id, spec: stepSpec(id, { agentId: 'other' }) })).toEqual({
        inserted: false,
      });
      const rows = await withClient(db.schema, (client) =>
        client.query('select agent_id from steps where id = $1', [id]),
      );
      expect(rows.rows).toEqual([{ agent_id: 'agent-a' }]);
    });

    it('stores file paths, modes and sizes but never file contents', async () => {
      const id = stepId();
      const spec = stepSpec(id, {
        files: [
          { path: 'persona.md', content: 'TOP-SECRET-PERSONA' },
          {
            path: 'bin/tool',
            content: Buffer.from('binary-content').toString('base64'),
            encoding: 'base64',
            mode: 0o755,
          },
        ],
        secrets: ['API_TOKEN'],
      });
      await db.steps.insertQueued({ id, spec });
      const stored = await db.steps.get(id);
      expect(stored?.spec.files).toEqual([
        { path: 'persona.md', size: 18 },
        { path: 'bin/tool', mode: 0o755, size: 14 },
      ]);
      expect(stored?.spec.secrets).toEqual(['API_TOKEN']);
      const raw = await withClient(db.schema, (client) =>
        client.query('select spec::text as spec from steps where id = $1', [id]),
      );
      expect(raw.rows[0].spec).not.toContain('TOP-SECRET-PERSONA');
      expect(raw.rows[0].spec).not.toContain(Buffer.from('binary-content').toString('base64'));
    });

    it('uses an explicit maxAttempts over the spec attempts', async () => {
      const id = stepId();
      await db.steps.insertQueued({ id, spec: stepSpec(id, { attempts: 5 }), maxAttempts: 1 });
      expect((await db.steps.get(id))?.maxAttempts).toBe(1);
    });

    it('refuses a spec whose id differs from the step id', async () => {
      const id = stepId();
      await expect(db.steps.insertQueued({ id, spec: stepSpec(stepId()) })).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
      });
    });

    it('stores input text containing NUL characters', async () => {
      const id = stepId();
      await db.steps.insertQueued({ id, spec: stepSpec(id, { input: { prompt: 'a\u0000b' } }) });
      expect((await db.steps.get(id))?.spec.input).toEqual({ prompt: 'a\uFFFDb' });
    });
  });

  describe('markRunning', () => {
    it('marks a queued step running, counts the attempt and keeps the first start time', async () => {
      const id = await queued();
      const first = await db.steps.markRunning({ id, workerId: 'worker-1' });
      expect(first).toMatchObject({ status: 'running', attempts: 1, workerId: 'worker-1' });
      expect(first?.startedAt).toBeInstanceOf(Date);
      const second = await db.steps.markRunning({ id, workerId: 'worker-2' });
      expect(second).toMatchObject({ status: 'running', attempts: 2, workerId: 'worker-2' });
      expect(second?.startedAt).toEqual(first?.startedAt);
    });

    it('does not count a redelivered attempt twice when the attempt number is given', async () => {
      const id = await queued();
      expect(await db.steps.markRunning({ id, workerId: 'w', attempt: 1 })).toMatchObject({ attempts: 1 });
      expect(await db.steps.markRunning({ id, workerId: 'w', attempt: 1 })).toMatchObject({ attempts: 1 });
      expect(await db.steps.markRunning({ id, workerId: 'w', attempt: 3 })).toMatchObject({ attempts: 3 });
    });

    it('returns undefined for a terminal or missing step and leaves it unchanged', async () => {
      const id = await queued();
      await db.steps.markFinished({ id, status: 'cancelled' });
      expect(await db.steps.markRunning({ id, workerId: 'w' })).toBeUndefined();
      expect(await db.steps.get(id)).toMatchObject({ status: 'cancelled', attempts: 0, workerId: null });
      expect(await db.steps.markRunning({ id: stepId(), workerId: 'w' })).toBeUndefined();
    });
  });

  describe('markFinished', () => {
    it('records the outcome with finish time and duration', async () => {
      const id = await queued();
      await db.steps.markRunning({ id, workerId: 'w' });
      const finished = await db.steps.markFinished({
        id,
        status: 'failed',
        exitCode: 2,
        output: 'héllo\n',
        outputTruncated: true,
        oomKilled: true,
        error: 'exit 2',
        errorCode: 'NON_ZERO_EXIT',
        result: { summary: 'nope' },
        imageId: 'sha256:abc',
      });
      expect(finished).toMatchObject({
        status: 'failed',
        exitCode: 2,
        output: 'héllo\n',
        outputBytes: 7,
        outputTruncated: true,
        oomKilled: true,
        error: 'exit 2',
        errorCode: 'NON_ZERO_EXIT',
        result: { summary: 'nope' },
        imageId: 'sha256:abc',
      });
      expect(finished?.finishedAt).toBeInstanceOf(Date);
      expect(finished?.durationMs).toBeGreaterThanOrEqual(0);
      expect(finished?.finishedAt?.getTime()).toBeGreaterThanOrEqual(
        finished?.startedAt?.getTime() ?? Number.NaN,
      );
    });

    it('lets exactly one of concurrent terminal transitions win', async () => {
      const pairs: [TerminalStatus, TerminalStatus][] = [
        ['succeeded', 'cancelled'],
        ['failed', 'timed_out'],
        ['error', 'succeeded'],
      ];
      for (let round = 0; round < 10; round++) {
        for (const [a, b] of pairs) {
          const id = await queued();
          await db.steps.markRunning({ id, workerId: 'w' });
          const results = await Promise.all([
            db.steps.markFinished({ id, status: a, exitCode: 0 }),
            db.steps.markFinished({ id, status: b, exitCode: 1 }),
          ]);
          const winners = results.filter((result) => result !== undefined);
          expect(winners).toHaveLength(1);
          expect((await db.steps.get(id))?.status).toBe(winners[0]?.status);
        }
      }
    });

    it('refuses to change a step that is already terminal', async () => {
      const id = await queued();
      await db.steps.markFinished({ id, status: 'succeeded', exitCode: 0, output: 'done' });
      expect(await db.steps.markFinished({ id, status: 'error', error: 'late' })).toBeUndefined();
      expect(await db.steps.get(id)).toMatchObject({
        status: 'succeeded',
        exitCode: 0,
        output: 'done',
        error: null,
      });
    });

    it('measures the duration of a step that never started from its creation', async () => {
      const id = await queued();
      await withClient(db.schema, (client) =>
        client.query(`update steps set created_at = now() - interval '2 seconds' where id = $1`, [id]),
      );
      const finished = await db.steps.markFinished({ id, status: 'cancelled' });
      expect(finished?.startedAt).toBeNull();
      expect(finished?.durationMs).toBeGreaterThanOrEqual(2000);
    });

    it('stores output containing NUL characters and reports output bytes beyond the kept output', async () => {
      const id = await queued();
      const finished = await db.steps.markFinished({
        id,
        status: 'succeeded',
        output: 'a\u0000b',
        outputBytes: 5_000_000_000,
        result: { text: '\u0000', 'k\u0000': 1 },
      });
      expect(finished).toMatchObject({
        output: 'a\uFFFDb',
        outputBytes: 5_000_000_000,
        result: { text: '\uFFFD', 'k\uFFFD': 1 },
      });
    });

    it('returns undefined for a missing step', async () => {
      expect(await db.steps.markFinished({ id: stepId(), status: 'error' })).toBeUndefined();
    });

    it('refuses a non-terminal status or an exit code outside 32 bits with INVALID_ARGUMENT', async () => {
      const id = await queued();
      const running = { id, status: 'running' } as unknown as Parameters<typeof db.steps.markFinished>[0];
      await expect(db.steps.markFinished(running)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      await expect(db.steps.markFinished({ id, status: 'failed', exitCode: 2 ** 32 })).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
      });
      expect((await db.steps.get(id))?.status).toBe('queued');
    });
  });

  describe('markQueued', () => {
    it('puts a running step back to queued and clears its worker', async () => {
      const id = await queued();
      await db.steps.markRunning({ id, workerId: 'w' });
      expect(await db.steps.markQueued({ id, error: 'worker shut down' })).toBe(true);
      expect(await db.steps.get(id)).toMatchObject({
        status: 'queued',
        workerId: null,
        attempts: 1,
        error: 'worker shut down',
      });
    });

    it('leaves a terminal or missing step alone', async () => {
      const id = await queued();
      await db.steps.markFinished({ id, status: 'timed_out' });
      expect(await db.steps.markQueued({ id })).toBe(false);
      expect((await db.steps.get(id))?.status).toBe('timed_out');
      expect(await db.steps.markQueued({ id: stepId() })).toBe(false);
    });
  });

  describe('requestCancel', () => {
    it('records the first cancel request time and keeps it on later requests', async () => {
      const id = await queued();
      const first = await db.steps.requestCancel(id);
      expect(first?.cancelRequestedAt).toBeInstanceOf(Date);
      const second = await db.steps.requestCancel(id);
      expect(second?.cancelRequestedAt).toEqual(first?.cancelRequestedAt);
      expect(second?.status).toBe('queued');
    });

    it('returns a terminal step unchanged', async () => {
      const id = await queued();
      await db.steps.markFinished({ id, status: 'succeeded' });
      const row = await db.steps.requestCancel(id);
      expect(row).toMatchObject({ id, status: 'succeeded', cancelRequestedAt: null });
    });

    it('returns undefined for a missing step', async () => {
      expect(await db.steps.requestCancel(stepId())).toBeUndefined();
    });
  });

  it('returns undefined from get for a missing step', async () => {
    expect(await db.steps.get(stepId())).toBeUndefined();
  });
  describe('recordRejected', () => {
    it('records a job the producer never wrote a row for as a finished error step', async () => {
      const id = stepId();
      const row = await db.steps.recordRejected({
        id,
        data: {
          agentId: 'Bad Agent',
          command: 'not-an-array',
          files: [{ path: 'a', content: 'secret-ish' }],
        },
        error: 'invalid step spec: agentId: must match ^[a-z0-9][a-z0-9_-]{0,62}$',
        errorCode: 'VALIDATION_FAILED',
      });
      expect(row).toMatchObject({
        id,
        status: 'error',
        errorCode: 'VALIDATION_FAILED',
        agentId: 'Bad Agent',
      });
      expect(row?.finishedAt).toBeInstanceOf(Date);
      expect(JSON.stringify(row?.spec)).not.toContain('secret-ish');
    });

    it('ends an existing queued row and refuses a terminal one', async () => {
      const id = await queued();
      expect(
        await db.steps.recordRejected({ id, data: {}, error: 'bad', errorCode: 'STEP_ID_MISMATCH' }),
      ).toMatchObject({
        status: 'error',
        errorCode: 'STEP_ID_MISMATCH',
      });
      expect(await db.steps.recordRejected({ id, data: {}, error: 'again', errorCode: 'X' })).toBeUndefined();
      expect((await db.steps.get(id))?.error).toBe('bad');
    });
  });

  describe('batches of queued steps', () => {
    const agentsOf = async (ids: string[]) =>
      (
        await withClient(db.schema, (client) =>
          client.query<{ id: string; agent_id: string; producer: string | null }>(
            'select id, agent_id, producer from steps where id = any($1) order by id',
            [ids],
          ),
        )
      ).rows;

    it('inserts new ids only, returns them, keeps the first of an id given twice and records the producer', async () => {
      const [known, a, b] = [stepId(), stepId(), stepId()];
      await db.steps.insertQueued({ id: known, spec: stepSpec(known, { agentId: 'agent-old' }) });
      const inserted = await db.steps.insertQueuedMany([
        { id: a, spec: stepSpec(a), producer: 'team-a' },
        { id: known, spec: stepSpec(known, { agentId: 'agent-new' }) },
        { id: b, spec: stepSpec(b) },
        { id: a, spec: stepSpec(a, { agentId: 'agent-second' }) },
      ]);
      expect(inserted.sort()).toEqual([a, b].sort());
      const rows = new Map((await agentsOf([known, a, b])).map((row) => [row.id, row]));
      expect(rows.get(known)).toMatchObject({ agent_id: 'agent-old', producer: null });
      expect(rows.get(a)).toMatchObject({ agent_id: 'agent-a', producer: 'team-a' });
      expect(rows.get(b)).toMatchObject({ agent_id: 'agent-a', producer: null });
      expect(await db.steps.insertQueuedMany([])).toEqual([]);
    });

    it('inserts more rows than one statement takes in one transaction: a row PostgreSQL refuses writes nothing', async () => {
      const ids = Array.from({ length: 2500 }, () => stepId('bulk'));
      expect((await db.steps.insertQueuedMany(ids.map((id) => ({ id, spec: stepSpec(id) })))).length).toBe(
        2500,
      );
      expect((await agentsOf(ids)).length).toBe(2500);
      const more = Array.from({ length: 1500 }, () => stepId('bulk'));
      const steps: NewStep[] = more.map((id) => ({ id, spec: stepSpec(id) }));
      // The last row, in the second statement, is past the integer column: the first is rolled back.
      const bad = stepId('bad');
      steps.push({ id: bad, spec: stepSpec(bad), maxAttempts: 2 ** 31 });
      await expect(db.steps.insertQueuedMany(steps)).rejects.toMatchObject({ code: 'QUERY_FAILED' });
      expect(await agentsOf([...more, bad])).toEqual([]);
      const invalid = stepId('bad');
      await expect(
        db.steps.insertQueuedMany([{ id: invalid, spec: stepSpec(stepId('other')) }]),
      ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    });

    it('reads states of many ids in one call and deletes only steps that never started', async () => {
      const [a, b, missing] = [stepId(), stepId(), stepId()];
      await db.steps.insertQueuedMany([
        { id: a, spec: stepSpec(a) },
        { id: b, spec: stepSpec(b, { agentId: 'agent-b' }) },
      ]);
      await db.steps.markRunning({ id: b, workerId: 'w1' });
      const states = await db.steps.getStates([a, b, missing]);
      expect(Object.fromEntries(states)).toEqual({
        [a]: { agentId: 'agent-a', status: 'queued' },
        [b]: { agentId: 'agent-b', status: 'running' },
      });
      expect(await db.steps.deleteQueuedMany([a, b, missing])).toEqual([a]);
      expect((await db.steps.getStates([a, b])).has(a)).toBe(false);
      expect(await db.steps.deleteQueued(b)).toBe(false);
    });
  });
});
