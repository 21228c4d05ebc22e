import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StallingDockerProxy, startStallingDockerProxy } from './support/stalling-docker-proxy.js';
import { TestFleet } from './support/test-fleet.js';

/**
 * An engine that shuts down just as a step's container exits may announce the exit on its event
 * stream (`die`, exit code 0), never answer the wait, and come back reporting 255 for the
 * container (seen in the fault suite: the finished step ran a second time). The proxy plays that
 * engine: waits go unanswered and inspects say 255, while the event stream passes through.
 */
describe('an exit status the engine lost after announcing it', () => {
  let proxy: StallingDockerProxy;
  let fleet: TestFleet;

  beforeAll(async () => {
    proxy = await startStallingDockerProxy('/var/run/docker.sock');
    fleet = await TestFleet.create({ dockerSocket: proxy.socketPath });
    await fleet.startWorker({ SANDFLEET_WORKER_CONCURRENCY: '1' });
  }, 60_000);

  afterAll(async () => {
    if (proxy) {
      proxy.stallWaits = false;
      proxy.loseExitStatus = false;
    }
    if (fleet) expect(await fleet.leftovers()).toEqual([]);
    await fleet?.close();
    await proxy?.close();
  });

  it('records the exit the engine announced instead of running the finished step again', async () => {
    proxy.stallWaits = true;
    proxy.loseExitStatus = true;
    const id = fleet.stepId();
    await fleet.queue.enqueue({ id, agentId: fleet.agentId(), command: ['echo', 'done'] });
    const row = await fleet.terminal(id, 60_000);
    // The fault took: the wait went unanswered and the engine said 255 when asked.
    expect(proxy.stalled).toBeGreaterThanOrEqual(1);
    expect(proxy.rewritten).toBeGreaterThanOrEqual(1);
    expect(row).toMatchObject({ status: 'succeeded', exitCode: 0, output: 'done\n', attempts: 1 });
  }, 90_000);
});
