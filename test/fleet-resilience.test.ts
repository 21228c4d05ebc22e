import { setTimeout as sleep } from 'node:timers/promises';
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
    // A step that ran more than once says why: its row, its status events, the workers' lines.
    const troubled = [];
    for (const [i, row] of rows.entries()) {
      if (row.status === 'succeeded' && row.attempts === 1 && row.output === `step ${i}\n`) continue;
      const statuses = (await fleet.replay(row.id)).filter((e) => e.type === 'status');
      const lines = [...a.logs, ...b.logs].filter((line) => line.includes(row.id));
      troubled.push({ row, statuses, lines });
    }
    expect(troubled, JSON.stringify(troubled, null, 1).slice(0, 20_000)).toEqual([]);
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
    await fleet.runningOn(id, doomed.workerId);
    const orphan = await fleet.containersOf(doomed.workerId);
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

  it('keeps the running steps of a worker that missed its heartbeats for a moment (paused, starved)', async () => {
    fleet = await TestFleet.create();
    // Beats every second (the key lives 3 s); a job lock that outlasts the pause, so only the
    // reaper can tell the paused worker for dead.
    const env = { SANDFLEET_HEARTBEAT_MS: '1000', SANDFLEET_LOCK_DURATION_MS: '30000' };
    const paused = fleet.spawnWorker(env);
    const id = fleet.stepId();
    await fleet.queue.enqueue({
      id,
      agentId: fleet.agentId(),
      command: { script: 'echo begin; sleep 8; echo end' },
    });
    await fleet.runningOn(id, paused.workerId);
    await fleet.containersOf(paused.workerId);
    const judge = await fleet.startWorker(env);
    paused.process.kill('SIGSTOP');
    // 4 s: the heartbeat key is gone for 1–2 s of it, with the judge's reaper sweeping every second.
    await sleep(4000);
    const during = await fleet.sandbox.listContainers({ workerId: paused.workerId });
    paused.process.kill('SIGCONT');
    const row = await fleet.terminal(id, 60_000);
    expect(during, judge.logs.join('')).toHaveLength(1);
    expect(row).toMatchObject({ status: 'succeeded', attempts: 1, workerId: paused.workerId });
    expect(row.output).toBe('begin\nend\n');
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
    await fleet.runningOn(id, doomed.workerId);
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
