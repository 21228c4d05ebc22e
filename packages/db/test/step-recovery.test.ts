import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SandfleetDatabase } from '../src/index.js';
import { stepId, stepSpec } from './support/step-specs.js';
import { createTestDatabase, disposeTestDatabase, withClient } from './support/test-database.js';

const FILES = [
  { path: 'persona.md', content: 'be brief', encoding: 'utf8' as const },
  {
    path: 'memory/a.bin',
    content: Buffer.from([0, 1, 2]).toString('base64'),
    encoding: 'base64' as const,
    mode: 0o600,
  },
];

describe('what PostgreSQL keeps to queue a step again', () => {
  let db: SandfleetDatabase;
  const future = () => new Date(Date.now() + 60_000);

  beforeAll(async () => {
    db = createTestDatabase();
    await db.migrate();
  });

  afterAll(async () => {
    await disposeTestDatabase(db);
  });

  it('returns an unchanged queued step with its whole spec, file contents included', async () => {
    const id = stepId();
    const spec = stepSpec(id, { files: FILES, env: { A: '1' } });
    await db.steps.insertQueued({ id, spec });
    const found = (await db.steps.listUnchangedSince({ status: 'queued', updatedBefore: future() })).find(
      (step) => step.record.id === id,
    );
    expect(found?.spec).toEqual(spec);
    expect(found?.record.spec.files).toEqual([
      { path: 'persona.md', size: 8 },
      { path: 'memory/a.bin', mode: 0o600, size: 3 },
    ]);
  });

  it('forgets file contents once the step ends, and lists only the status asked for', async () => {
    const id = stepId();
    await db.steps.insertQueued({ id, spec: stepSpec(id, { files: FILES }) });
    await db.steps.markRunning({ id, workerId: 'w1' });
    const running = await db.steps.listUnchangedSince({ status: 'running', updatedBefore: future() });
    expect(running.map((step) => step.record.id)).toContain(id);
    const queued = await db.steps.listUnchangedSince({ status: 'queued', updatedBefore: future() });
    expect(queued.map((step) => step.record.id)).not.toContain(id);
    await db.steps.markFinished({ id, status: 'succeeded', exitCode: 0 });
    const left = await withClient(db.schema, (client) =>
      client.query('select pending_files from steps where id = $1', [id]),
    );
    expect(left.rows).toEqual([{ pending_files: null }]);
  });

  it('lists only steps unchanged since the given time', async () => {
    const id = stepId();
    await db.steps.insertQueued({ id, spec: stepSpec(id) });
    const past = new Date(Date.now() - 60_000);
    const found = await db.steps.listUnchangedSince({ status: 'queued', updatedBefore: past });
    expect(found.map((step) => step.record.id)).not.toContain(id);
  });

  it('gives no spec for a step whose file contents are gone', async () => {
    const id = stepId();
    await db.steps.insertQueued({ id, spec: stepSpec(id, { files: FILES }) });
    await withClient(db.schema, (client) =>
      client.query('update steps set pending_files = null where id = $1', [id]),
    );
    const found = (await db.steps.listUnchangedSince({ status: 'queued', updatedBefore: future() })).find(
      (step) => step.record.id === id,
    );
    expect(found?.record.id).toBe(id);
    expect(found?.spec).toBeUndefined();
  });
});

describe('attempt fencing of row writes', () => {
  let db: SandfleetDatabase;

  beforeAll(async () => {
    db = createTestDatabase();
    await db.migrate();
  });

  afterAll(async () => {
    await disposeTestDatabase(db);
  });

  it('records nothing from an attempt once a later attempt started', async () => {
    const id = stepId();
    await db.steps.insertQueued({ id, spec: stepSpec(id) });
    const first = await db.steps.markRunning({ id, workerId: 'w1' });
    const second = await db.steps.markRunning({ id, workerId: 'w2' });
    expect([first?.attempts, second?.attempts]).toEqual([1, 2]);
    expect(await db.steps.markQueued({ id, attempt: 1, error: 'stale hand-back' })).toBe(false);
    expect(await db.steps.markFinished({ id, status: 'failed', exitCode: 9, attempt: 1 })).toBeUndefined();
    expect(await db.steps.get(id)).toMatchObject({ status: 'running', workerId: 'w2', exitCode: null });
    expect(await db.steps.markFinished({ id, status: 'succeeded', exitCode: 0, attempt: 2 })).toMatchObject({
      status: 'succeeded',
      attempts: 2,
    });
  });

  it('puts a step back from running only, when asked', async () => {
    const id = stepId();
    await db.steps.insertQueued({ id, spec: stepSpec(id) });
    expect(await db.steps.markQueued({ id, fromStatus: 'running' })).toBe(false);
    await db.steps.markRunning({ id, workerId: 'w1' });
    expect(await db.steps.markQueued({ id, fromStatus: 'running' })).toBe(true);
    expect((await db.steps.get(id))?.status).toBe('queued');
  });
});
