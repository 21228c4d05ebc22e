import { afterEach, describe, expect, it } from 'vitest';
import { TestFleet } from './support/test-fleet.js';

describe('fleet resilience', () => {
  let fleet: TestFleet | undefined;

  afterEach(async () => {
    if (!fleet) return;
    const current = fleet;
    fleet = undefined;
    try {
      expect(await current.leftovers()).toEqual([]);
    } finally {
      // Even after a failure: a fleet left open keeps its workers, containers and homes.
      await current.close();
    }
  });

  it('runs 200 steps on two workers, each exactly once, every row terminal', async () => {
    fleet = await TestFleet.create();
    // Production-length locks: the fleet's 3 s test locks can lapse on a loaded machine and
    // (correctly) run a step again elsewhere, which this test is not about.
    const workerEnv = { SANDFLEET_WORKER_CONCURRENCY: '4', SANDFLEET_LOCK_DURATION_MS: '30000' };
    const a = await fleet.startWorker(workerEnv);
    const b = await fleet.startWorker(workerEnv);
    const ids = Array.from({ length: 200 }, () => fleet?.stepId() as string);
    // Steps of one agent run one at a time; 25 agents keep both workers busy.
    const agents = Array.from({ length: 25 }, () => fleet?.agentId() as string);
    // One at a time: 200 concurrent producers or pollers would only queue on the test's small pool.
    for (const [i, id] of ids.entries()) {
      await fleet.queue.enqueue({
        id,
        agentId: agents[i % agents.length] as string,
        command: ['echo', `step ${i}`],
      });
    }
    const rows = [];
    for (const id of ids) rows.push(await fleet.terminal(id, 330_000));
    for (const [i, row] of rows.entries()) {
      expect(row).toMatchObject({ status: 'succeeded', attempts: 1, output: `step ${i}\n` });
    }
    for (const id of ids) {
      const running = (await fleet.replay(id)).filter((e) => e.type === 'status' && e.status === 'running');
      expect(running).toHaveLength(1);
    }
    const byWorker = new Set(rows.map((r) => r?.workerId));
    expect(byWorker).toEqual(new Set([a.workerId, b.workerId]));
    // 200 containers on 2 cores: ~90 s on a quiet machine, more when it is shared.
  }, 360_000);

  it('finishes a step on another worker after its worker is SIGKILLed, and reaps the orphan', async () => {
    fleet = await TestFleet.create();
    const doomed = fleet.spawnWorker();
    const id = fleet.stepId();
    await fleet.queue.enqueue({
      id,
      agentId: fleet.agentId(),
      command: { script: 'echo begin; sleep 4; echo end' },
    });
    await fleet.until('the step to run on the doomed worker', async () => {
      const row = await fleet?.db.steps.get(id);
      return row?.status === 'running' && row.workerId === doomed.workerId;
    });
    const orphan = await fleet.until('its container', async () => {
      const list = await fleet?.sandbox.listContainers({ workerId: doomed.workerId });
      return list && list.length > 0 ? list : undefined;
    });
    doomed.process.kill('SIGKILL');
    await doomed.exited;
    const survivor = await fleet.startWorker();
    const row = await fleet.terminal(id, 60_000);
    expect(row).toMatchObject({ status: 'succeeded', attempts: 2, workerId: survivor.workerId });
    expect(row.output).toContain('end\n');
    await fleet.until('the orphan to be reaped', async () => {
      const list = await fleet?.sandbox.listContainers({ workerId: doomed.workerId });
      return list?.length === 0;
    });
    expect(orphan).toHaveLength(1);
  });

  it('hands running steps back on shutdown after the drain grace; another worker finishes them', async () => {
    fleet = await TestFleet.create();
    const leaving = await fleet.startWorker({ SANDFLEET_DRAIN_GRACE_MS: '300' });
    const id = fleet.stepId();
    await fleet.queue.enqueue({
      id,
      agentId: fleet.agentId(),
      command: { script: 'echo begin; sleep 3; echo end' },
    });
    await fleet.until('the step to start', async () => (await fleet?.db.steps.get(id))?.status === 'running');
    await leaving.close();
    const handedBack = await fleet.db.steps.get(id);
    expect(handedBack?.status).toBe('queued');
    const staying = await fleet.startWorker();
    const row = await fleet.terminal(id, 30_000);
    expect(row).toMatchObject({ status: 'succeeded', attempts: 2, workerId: staying.workerId });
  });

  it('lets running steps finish when they end within the drain grace', async () => {
    fleet = await TestFleet.create();
    const worker = await fleet.startWorker({ SANDFLEET_DRAIN_GRACE_MS: '20000' });
    const id = fleet.stepId();
    await fleet.queue.enqueue({ id, agentId: fleet.agentId(), command: { script: 'sleep 1; echo done' } });
    await fleet.until('the step to start', async () => (await fleet?.db.steps.get(id))?.status === 'running');
    await worker.close();
    expect(await fleet.db.steps.get(id)).toMatchObject({
      status: 'succeeded',
      attempts: 1,
      output: 'done\n',
    });
  });

  it('ends a step in error when its worker dies more often than the stall limit allows', async () => {
    fleet = await TestFleet.create();
    const doomed = fleet.spawnWorker();
    const id = fleet.stepId();
    await fleet.queue.enqueue({ id, agentId: fleet.agentId(), command: ['sleep', '30'] });
    await fleet.until('the step to run on the doomed worker', async () => {
      const row = await fleet?.db.steps.get(id);
      return row?.status === 'running' && row.workerId === doomed.workerId;
    });
    doomed.process.kill('SIGKILL');
    await doomed.exited;
    await fleet.startWorker({ SANDFLEET_MAX_STALLED_COUNT: '0' });
    const row = await fleet.terminal(id, 60_000);
    expect(row).toMatchObject({ status: 'error', errorCode: 'JOB_FAILED', attempts: 1 });
    expect(row.error).toContain('stalled');
    // Known race (see the issue note): the survivor may publish a late `running` status after it.
    expect((await fleet.replay(id)).filter((e) => e.type === 'finished')).toMatchObject([
      { status: 'error' },
    ]);
    await fleet.until('the orphan to be reaped', async () => (await fleet?.leftovers())?.length === 0);
  });
});
