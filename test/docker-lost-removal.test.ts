import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StallingDockerProxy, startStallingDockerProxy } from './support/stalling-docker-proxy.js';
import { TestFleet, type TestWorker } from './support/test-fleet.js';

/**
 * An engine that shuts down while a worker removes a step's container may answer the removal
 * (409 "already in progress") and keep the container (seen in the fault suite: one container of
 * 200 steps left after a Docker restart). The worker lives on, so no orphan reaper judges it:
 * the worker's own sweep must find and remove it.
 */
describe('a container removal the engine answered but never did', () => {
  let proxy: StallingDockerProxy;
  let fleet: TestFleet;
  let worker: TestWorker;

  beforeAll(async () => {
    proxy = await startStallingDockerProxy('/var/run/docker.sock');
    fleet = await TestFleet.create({ dockerSocket: proxy.socketPath });
    worker = await fleet.startWorker({ SANDFLEET_WORKER_CONCURRENCY: '1' });
  }, 60_000);

  afterAll(async () => {
    if (proxy) proxy.refuseRemovals = false;
    await fleet?.close();
    await proxy?.close();
  });

  it('is removed by the living worker once the engine removes again', async () => {
    proxy.refuseRemovals = true;
    const id = fleet.stepId();
    await fleet.queue.enqueue({ id, agentId: fleet.agentId(), command: ['echo', 'done'] });
    const row = await fleet.terminal(id);
    expect(row).toMatchObject({ status: 'succeeded', output: 'done\n', attempts: 1 });
    // The fault took: the engine still has the step's container, and the worker asked again.
    await fleet.until('a refused retry', async () => proxy.refused >= 3);
    expect((await fleet.sandbox.listContainers({ stepId: id })).map((c) => c.workerId)).toEqual([
      worker.workerId,
    ]);

    proxy.refuseRemovals = false;
    await fleet.until('the worker to remove it', async () => (await fleet.leftovers()).length === 0, 10_000);
    expect(await fleet.sandbox.listContainers({ stepId: id })).toEqual([]);
  }, 60_000);
});
