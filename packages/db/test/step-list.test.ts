import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SandfleetDatabase, StepListFilter } from '../src/index.js';
import { stepId, stepSpec } from './support/step-specs.js';
import { createTestDatabase, disposeTestDatabase, withClient } from './support/test-database.js';

/** Follows `nextCursor` until the end, returning the ids page by page. */
async function allPages(db: SandfleetDatabase, filter: StepListFilter): Promise<string[][]> {
  const pages: string[][] = [];
  let cursor: string | undefined;
  do {
    const page = await db.steps.list({ ...filter, ...(cursor === undefined ? {} : { cursor }) });
    pages.push(page.items.map((item) => item.id));
    cursor = page.nextCursor;
  } while (cursor !== undefined && pages.length < 100);
  return pages;
}

describe('step listing', () => {
  let db: SandfleetDatabase;
  /** Ids newest first, as list orders them. */
  const ordered: string[] = [];

  beforeAll(async () => {
    db = createTestDatabase();
    await db.migrate();
    // 12 steps over 4 instants, 3 per instant: ties in created_at, and instants differing only in
    // microseconds within one millisecond.
    const instants = [
      '2025-01-01T00:00:00.000001Z',
      '2025-01-01T00:00:00.000500Z',
      '2025-01-01T00:00:00.000900Z',
      '2025-01-01T00:00:01.000000Z',
    ];
    const rows: { id: string; createdAt: string }[] = [];
    for (const [index, createdAt] of instants.entries()) {
      for (let n = 0; n < 3; n++) {
        // Letters and digits only, so the expected order holds under any database collation.
        const id = `s${index}n${n}${randomBytes(4).toString('hex')}`;
        await db.steps.insertQueued({
          id,
          spec: stepSpec(id, {
            agentId: n === 0 ? 'agent-x' : 'agent-y',
            ...(index % 2 === 0 ? { runId: 'run-even' } : {}),
            labels: { instant: String(index), n: String(n) },
          }),
        });
        rows.push({ id, createdAt });
      }
    }
    await withClient(db.schema, async (client) => {
      for (const row of rows) {
        await client.query('update steps set created_at = $2::timestamptz where id = $1', [
          row.id,
          row.createdAt,
        ]);
      }
    });
    rows.sort((a, b) =>
      a.createdAt === b.createdAt ? (a.id < b.id ? 1 : -1) : a.createdAt < b.createdAt ? 1 : -1,
    );
    ordered.push(...rows.map((row) => row.id));
    const [first, second, third] = ordered.slice(-3);
    await db.steps.markRunning({ id: first ?? '', workerId: 'w' });
    await db.steps.markFinished({ id: second ?? '', status: 'succeeded' });
    await db.steps.markFinished({ id: third ?? '', status: 'failed' });
  });

  afterAll(async () => {
    await disposeTestDatabase(db);
  });

  it('lists newest first, breaking created_at ties by id', async () => {
    const page = await db.steps.list({});
    expect(page.items.map((item) => item.id)).toEqual(ordered);
    expect(page.nextCursor).toBeUndefined();
  });

  it('pages through ties and sub-millisecond instants without skipping or repeating a step', async () => {
    for (const limit of [1, 2, 4, 5, 11]) {
      const pages = await allPages(db, { limit });
      expect(pages.flat()).toEqual(ordered);
      expect(pages.every((page) => page.length <= limit)).toBe(true);
      expect(pages.at(-1)?.length).toBeGreaterThan(0);
    }
  });

  it('returns the same pages again for the same cursors when newer steps arrive', async () => {
    const firstPage = await db.steps.list({ limit: 4 });
    const id = stepId();
    await db.steps.insertQueued({ id, spec: stepSpec(id, { agentId: 'agent-late' }) });
    const secondPage = await db.steps.list({ limit: 4, cursor: firstPage.nextCursor });
    expect(secondPage.items.map((item) => item.id)).toEqual(ordered.slice(4, 8));
    expect((await db.steps.list({ limit: 1 })).items[0]?.id).toBe(id);
  });

  it('filters by status, agent, run and label', async () => {
    const ids = async (filter: StepListFilter) => (await db.steps.list(filter)).items.map((item) => item.id);
    const oldest = ordered.slice(-3);
    expect(await ids({ status: 'succeeded' })).toEqual([oldest[1]]);
    expect(await ids({ status: 'running' })).toEqual([oldest[0]]);
    expect(await ids({ agentId: 'agent-x' })).toEqual(ordered.filter((id) => /^s\dn0/.test(id)));
    expect(await ids({ runId: 'run-even' })).toEqual(ordered.filter((id) => /^s[02]n/.test(id)));
    expect(await ids({ label: { key: 'instant', value: '3' } })).toEqual(
      ordered.filter((id) => id.startsWith('s3n')),
    );
    expect(await ids({ label: { key: 'instant', value: 'none' } })).toEqual([]);
    expect(await ids({ agentId: 'agent-y', runId: 'run-even', label: { key: 'n', value: '2' } })).toEqual(
      ordered.filter((id) => /^s[02]n2/.test(id)),
    );
  });

  it('filters by creation time, excluding both bounds', async () => {
    const ids = async (filter: StepListFilter) => (await db.steps.list(filter)).items.map((item) => item.id);
    const between = await ids({
      createdAfter: new Date('2025-01-01T00:00:00.000Z'),
      createdBefore: new Date('2025-01-01T00:00:01.000Z'),
    });
    expect(between).toEqual(ordered.filter((id) => /^s[012]n/.test(id)));
  });

  it('pages a filtered list with the same cursor mechanics', async () => {
    const pages = await allPages(db, { agentId: 'agent-y', limit: 3 });
    expect(pages.flat()).toEqual(ordered.filter((id) => /^s\dn[12]/.test(id)));
  });

  it('leaves output, spec and result out of listed steps', async () => {
    const [item] = (await db.steps.list({ limit: 1 })).items;
    expect(item).toBeDefined();
    expect(item).not.toHaveProperty('output');
    expect(item).not.toHaveProperty('spec');
    expect(item).toHaveProperty('labels');
  });

  it('rejects a malformed cursor with INVALID_CURSOR', async () => {
    const forged = Buffer.from(JSON.stringify({ v: 1, t: '2025-02-30T00:00:00.000000Z', i: 'x' })).toString(
      'base64url',
    );
    for (const cursor of [
      '',
      'not a cursor!',
      'bm90LWpzb24',
      forged,
      Buffer.from('[]').toString('base64url'),
    ]) {
      await expect(db.steps.list({ cursor })).rejects.toMatchObject({
        code: 'INVALID_CURSOR',
        retryable: false,
      });
    }
  });

  it('clamps the limit to 500 and rejects a limit that is not a positive integer', async () => {
    await expect(db.steps.list({ limit: 10_000 })).resolves.toBeDefined();
    await expect(db.steps.list({ limit: 0 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(db.steps.list({ limit: 1.5 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('counts steps per status, with zero for empty statuses', async () => {
    const counts = await db.steps.countByStatus();
    expect(counts).toEqual({
      queued: counts.queued,
      running: 1,
      succeeded: 1,
      failed: 1,
      timed_out: 0,
      cancelled: 0,
      error: 0,
    });
    expect(counts.queued).toBeGreaterThanOrEqual(9);
  });
});
