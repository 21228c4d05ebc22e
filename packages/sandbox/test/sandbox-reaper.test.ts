import { LABELS } from '@sandfleet/contracts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { docker, TEST_IMAGE, TestBed } from './support.js';

let bed: TestBed;
beforeEach(() => {
  bed = new TestBed();
});
afterEach(async () => {
  await bed.cleanUp();
});

/** A container as a crashed or running worker would have left it. */
async function workerContainer(workerId: string, stepId: string, fleet?: string): Promise<string> {
  const container = await docker.createContainer({
    Image: TEST_IMAGE,
    Cmd: ['sleep', '60'],
    Labels: {
      [LABELS.managed]: 'true',
      [LABELS.stepId]: stepId,
      [LABELS.agentId]: 'nobody',
      [LABELS.workerId]: workerId,
      [LABELS.attempt]: '1',
      ...(fleet === undefined ? {} : { [LABELS.fleet]: fleet }),
    },
    HostConfig: { NetworkMode: 'none' },
  });
  await container.start();
  return container.id;
}

describe('orphan containers', () => {
  it("removes a dead worker's containers and its own that no run holds; keeps a live worker's and its running step's", async () => {
    const dead = bed.otherWorkerId('dead');
    const live = bed.otherWorkerId('live');
    const deadId = await workerContainer(dead, `step-dead-${bed.id}`);
    const liveId = await workerContainer(live, `step-live-${bed.id}`);
    // Its own container that no run holds: what an engine that lost or refused a removal leaves.
    const strayId = await workerContainer(bed.workerId, `step-stray-${bed.id}`);
    const controller = new AbortController();
    let heldId = '';
    let stillRunning: Promise<unknown> = Promise.resolve();
    const started = new Promise<void>((resolve) => {
      const running = bed.sandbox.run(bed.request({ argv: ['sleep', '60'] }), {
        signal: controller.signal,
        onOutput: () => undefined,
        onStarted: ({ containerId }) => {
          heldId = containerId;
          resolve();
        },
      });
      // Held until its container is gone, which is after its outcome.
      stillRunning = running.then((result) => result.removed).catch(() => undefined);
    });
    await started;
    const asked: string[] = [];

    const removed = await bed.sandbox.reapOrphans({
      selfWorkerId: bed.workerId,
      // Other tests' and real workers' containers may share this engine: only ours is dead.
      isWorkerAlive: async (workerId) => {
        asked.push(workerId);
        return workerId !== dead;
      },
    });

    expect(removed.sort()).toEqual([deadId, strayId].sort());
    expect(asked).not.toContain(bed.workerId);
    expect(await bed.sandbox.listContainers({ workerId: dead })).toEqual([]);
    expect(await bed.sandbox.listContainers({ workerId: live })).toEqual([
      {
        id: liveId,
        stepId: `step-live-${bed.id}`,
        attempt: 1,
        workerId: live,
        agentId: 'nobody',
        state: 'running',
      },
    ]);
    expect((await bed.sandbox.listContainers({ workerId: bed.workerId })).map((c) => c.id)).toEqual([heldId]);

    controller.abort();
    await stillRunning;
    expect(await bed.sandbox.listContainers({ workerId: bed.workerId })).toEqual([]);
    expect(await bed.sandbox.removeWorkerContainers(live)).toEqual([liveId]);
  });

  it("judges only its own fleet's containers: another fleet's dead-looking worker is left alone", async () => {
    const dead = bed.otherWorkerId('dead');
    const ours = await workerContainer(dead, `step-ours-${bed.id}`, `fleet-a-${bed.id}`);
    const theirs = await workerContainer(dead, `step-theirs-${bed.id}`, `fleet-b-${bed.id}`);
    const removed = await bed.sandbox.reapOrphans({
      selfWorkerId: bed.workerId,
      isWorkerAlive: async () => false,
      fleet: `fleet-a-${bed.id}`,
    });
    expect(removed).toEqual([ours]);
    expect((await bed.sandbox.listContainers({ workerId: dead })).map((c) => [c.id, c.fleet])).toEqual([
      [theirs, `fleet-b-${bed.id}`],
    ]);
    expect(await bed.sandbox.removeWorkerContainers(dead)).toEqual([theirs]);
  });

  it('answers ping and image lookups', async () => {
    expect(await bed.sandbox.ping()).toMatchObject({
      apiVersion: expect.any(String),
      version: expect.any(String),
    });
    expect(await bed.sandbox.imageExists(TEST_IMAGE)).toBe(true);
    expect(await bed.sandbox.imageExists('sandfleet/no-such-image:latest')).toBe(false);
  });
});
