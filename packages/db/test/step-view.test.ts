import { StepListPage, StepView } from '@sandfleet/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SandfleetDatabase } from '../src/index.js';
import { stepId, stepSpec } from './support/step-specs.js';
import { createTestDatabase, disposeTestDatabase } from './support/test-database.js';

/** What the API answers for a value: its JSON. */
const asServed = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

describe('steps as the HTTP contract serves them', () => {
  let db: SandfleetDatabase;

  beforeAll(async () => {
    db = createTestDatabase();
    await db.migrate();
  });

  afterAll(async () => {
    await disposeTestDatabase(db);
  });

  it('maps a row, queued then finished, to a valid StepView with ISO-8601 instants', async () => {
    const id = stepId();
    await db.steps.insertQueued({
      id,
      spec: stepSpec(id, { command: { script: 'echo hi' }, labels: { team: 'core' }, priority: 3 }),
    });
    const queued = asServed(await db.steps.get(id));
    expect(StepView.parse(queued)).toEqual(queued);

    await db.steps.markRunning({ id, workerId: 'worker-1', attempt: 1 });
    await db.steps.markFinished({
      id,
      status: 'failed',
      exitCode: 2,
      output: 'boom\n',
      error: 'exited 2',
      errorCode: 'JOB_FAILED',
      result: { answer: 42 },
      attempt: 1,
    });
    const row = await db.steps.get(id);
    const finished = StepView.parse(asServed(row));
    expect(finished).toMatchObject({ status: 'failed', exitCode: 2, result: { answer: 42 } });
    expect(finished.finishedAt).toBe(row?.finishedAt?.toISOString());
    expect(finished.command).toEqual({ script: 'echo hi', shell: 'sh' });
  });

  it('maps a page of summaries to a valid StepListPage without the large fields', async () => {
    const id = stepId();
    await db.steps.insertQueued({ id, spec: stepSpec(id) });
    const page = await db.steps.list({ limit: 1 });
    const served = asServed({ items: page.items, nextCursor: page.nextCursor ?? null });
    expect(StepListPage.parse(served)).toEqual(served);
    expect(page.items[0]).not.toHaveProperty('output');
    expect(page.items[0]).not.toHaveProperty('spec');
  });
});
