import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TestFleet, type TestWorker } from './support/test-fleet.js';

/**
 * PostgreSQL is the record of accepted steps: when Redis loses a step's job (data loss, or a
 * producer that died between the row and the job), a worker's reconciler queues it again.
 */
describe('the reconciler', () => {
  let fleet: TestFleet;
  let worker: TestWorker;

  beforeAll(async () => {
    fleet = await TestFleet.create();
    worker = await fleet.startWorker({
      SANDFLEET_RECONCILE_INTERVAL_MS: '300',
      SANDFLEET_RECONCILE_AFTER_MS: '500',
    });
  });

  afterEach(async () => {
    expect(await fleet.leftovers()).toEqual([]);
  });

  afterAll(async () => {
    await fleet?.close();
  });

  it('queues again a queued step whose job Redis lost, with its files, and counts the repair', async () => {
    const id = fleet.stepId();
    // The row is written, the job never reaches Redis (or Redis lost it).
    await fleet.db.steps.insertQueued({
      id,
      spec: {
        id,
        agentId: fleet.agentId(),
        kind: 'task',
        command: ['cat', 'persona.md'],
        files: [{ path: 'persona.md', content: 'kept in postgres', encoding: 'utf8' }],
        env: {},
        secrets: [],
        labels: {},
        limits: {},
        network: 'none',
        attempts: 3,
      },
    });
    expect(await fleet.queue.jobState(id)).toBe('unknown');
    const row = await fleet.terminal(id, 30_000);
    expect(row).toMatchObject({ status: 'succeeded', output: 'kept in postgres', attempts: 1 });
    expect(await worker.metrics.render()).toMatch(
      /sandfleet_reconciler_repairs_total\{kind="queued_without_job"[^}]*\} 1/,
    );
  });

  it('queues again a running step whose worker, job and container are all gone', async () => {
    const id = fleet.stepId();
    const agentId = fleet.agentId();
    await fleet.queue.enqueue({ id, agentId, command: ['echo', 'second life'], delayMs: 3_600_000 });
    // A worker took it and died, and Redis lost the job with it.
    await fleet.db.steps.markRunning({ id, workerId: `${fleet.id}-gone` });
    await (await fleet.queue.queue.getJob(id))?.remove();
    const row = await fleet.terminal(id, 30_000);
    expect(row).toMatchObject({ status: 'succeeded', output: 'second life\n', attempts: 2 });
  });

  it('leaves alone a running step whose job is active', async () => {
    const id = fleet.stepId();
    await fleet.queue.enqueue({ id, agentId: fleet.agentId(), command: ['sleep', '2'] });
    await fleet.until('the step to run', async () => (await fleet.db.steps.get(id))?.status === 'running');
    await new Promise((resolve) => setTimeout(resolve, 800));
    const report = await worker.service.reconcile();
    expect(report?.running_without_job).not.toContain(id);
    expect(await fleet.terminal(id)).toMatchObject({ status: 'succeeded', attempts: 1 });
  });
});
