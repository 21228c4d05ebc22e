import { hostname } from 'node:os';
import { type FleetNames, fleetNames } from '@sandfleet/contracts';
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRedisConnection, WorkerRegistry } from '../src/index.js';
import { REDIS_URL, randomId, waitFor } from './support.js';

// Each test is a fleet of its own (a random prefix), so `list()` sees only its workers.
let redis: Redis;
let workerIds: string[];
let names: FleetNames;
beforeEach(() => {
  redis = createRedisConnection({ url: REDIS_URL, role: 'producer', name: randomId('registry-test') });
  workerIds = [];
  names = fleetNames(randomId('regtest'));
});
afterEach(async () => {
  if (workerIds.length > 0) await redis.del(...workerIds.map(names.worker));
  await redis.quit();
});

function registry(
  options: { concurrency?: number; heartbeatMs?: number; names?: FleetNames } = {},
): WorkerRegistry {
  const workerId = randomId('regtest-w');
  workerIds.push(workerId);
  return new WorkerRegistry({ redis, names, workerId, concurrency: 2, heartbeatMs: 5000, ...options });
}

const idOf = (index: number) => workerIds[index] as string;

describe('WorkerRegistry', () => {
  it('reports a worker alive after a beat and not after it stops', async () => {
    const registryA = registry();
    expect(await registryA.isAlive(idOf(0))).toBe(false);
    await registryA.beat();
    expect(await registryA.isAlive(idOf(0))).toBe(true);
    await registryA.stop();
    expect(await registryA.isAlive(idOf(0))).toBe(false);
  });

  it('lets a heartbeat expire about three heartbeat periods after the last beat', async () => {
    const heartbeatMs = 200;
    const registryA = registry({ heartbeatMs });
    const beatAt = Date.now();
    await registryA.beat();
    const ttl = await redis.pttl(names.worker(idOf(0)));
    expect(ttl).toBeGreaterThan(2 * heartbeatMs);
    expect(ttl).toBeLessThanOrEqual(3 * heartbeatMs);
    await waitFor('the heartbeat to expire', async () => !(await registryA.isAlive(idOf(0))), 5000);
    expect(Date.now() - beatAt).toBeGreaterThanOrEqual(3 * heartbeatMs - 50);
  });

  it('keeps a started worker alive well past the key lifetime by renewing it', async () => {
    const heartbeatMs = 100;
    const registryA = registry({ heartbeatMs });
    await registryA.start();
    const until = Date.now() + 10 * heartbeatMs;
    while (Date.now() < until) {
      expect(await registryA.isAlive(idOf(0))).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, heartbeatMs / 4));
    }
    await registryA.stop();
    expect(await registryA.isAlive(idOf(0))).toBe(false);
  });

  it('lists the heartbeats of live workers and drops stopped ones', async () => {
    const registryA = registry({ concurrency: 3 });
    const registryB = registry({ concurrency: 8 });
    await registryA.beat();
    await registryB.beat();
    const ours = async () =>
      (await registryA.list())
        .filter((heartbeat) => workerIds.includes(heartbeat.workerId))
        .sort((a, b) => workerIds.indexOf(a.workerId) - workerIds.indexOf(b.workerId));
    const heartbeat = (workerId: string, concurrency: number) => ({
      workerId,
      concurrency,
      hostname: hostname(),
      pid: process.pid,
      startedAt: expect.any(String),
    });
    expect(await ours()).toEqual([heartbeat(idOf(0), 3), heartbeat(idOf(1), 8)]);
    await registryA.stop();
    expect(await ours()).toEqual([heartbeat(idOf(1), 8)]);
  });

  it("answers for its own fleet only: another fleet's live worker of the same id is not alive here", async () => {
    const other = fleetNames(randomId('regtest'));
    const registryA = registry();
    const registryB = new WorkerRegistry({
      redis,
      names: other,
      workerId: idOf(0),
      concurrency: 1,
      heartbeatMs: 5000,
    });
    try {
      await registryB.beat();
      expect(await registryB.isAlive(idOf(0))).toBe(true);
      expect(await registryA.isAlive(idOf(0))).toBe(false);
      expect(await registryA.list()).toEqual([]);
      expect((await registryB.list()).map((heartbeat) => heartbeat.workerId)).toEqual([idOf(0)]);
    } finally {
      await registryB.stop();
    }
  });

  it('skips heartbeat values that are not heartbeats instead of failing the whole list', async () => {
    const registryA = registry();
    await registryA.beat();
    const garbled = randomId('regtest-garbled');
    const wrongShape = randomId('regtest-shape');
    workerIds.push(garbled, wrongShape);
    await redis.set(names.worker(garbled), 'not json', 'PX', 60_000);
    await redis.set(names.worker(wrongShape), JSON.stringify({ workerId: 42 }), 'PX', 60_000);
    const listed = (await registryA.list()).map((heartbeat) => heartbeat.workerId);
    expect(listed).toContain(idOf(0));
    expect(listed).not.toContain(garbled);
    expect(listed).not.toContain(wrongShape);
  });
});
