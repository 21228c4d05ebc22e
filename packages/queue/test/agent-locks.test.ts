import { DEFAULT_FLEET_NAMES, fleetNames } from '@sandfleet/contracts';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AgentLocks } from '../src/index.js';
import { REDIS_URL, randomId, waitFor } from './support.js';

describe('AgentLocks', () => {
  let redis: Redis;
  let agentId: string;

  beforeEach(() => {
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    agentId = randomId('agent');
  });

  afterEach(async () => {
    await redis.del(DEFAULT_FLEET_NAMES.agentLock(agentId));
    await redis.quit();
  });

  it('lets one step of an agent hold the lock and refuses another until it is released', async () => {
    const locks = new AgentLocks({ redis, ttlMs: 5000 });
    const lease = await locks.acquire(agentId, 'step-1');
    expect(lease).toBeDefined();
    expect(await locks.acquire(agentId, 'step-2')).toBeUndefined();
    expect(await locks.holder(agentId)).toBe('step-1');
    await lease?.release();
    const next = await locks.acquire(agentId, 'step-2');
    expect(next).toBeDefined();
    await next?.release();
  });

  it('gives the lock back to the step that holds it when it is redelivered', async () => {
    const locks = new AgentLocks({ redis, ttlMs: 5000 });
    const first = await locks.acquire(agentId, 'step-1');
    const again = await locks.acquire(agentId, 'step-1');
    expect(again).toBeDefined();
    await again?.release();
    await first?.release();
    expect(await locks.holder(agentId)).toBeNull();
  });

  it('keeps a held lock alive past its ttl, and frees a dead holder’s lock after it', async () => {
    const locks = new AgentLocks({ redis, ttlMs: 300 });
    const lease = await locks.acquire(agentId, 'step-1');
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(await locks.holder(agentId)).toBe('step-1');
    await lease?.release();
    await redis.set(DEFAULT_FLEET_NAMES.agentLock(agentId), 'dead-step', 'PX', 300);
    await waitFor(
      'the dead holder’s lock to expire',
      async () => (await locks.holder(agentId)) === null,
      3000,
    );
  });

  it('keeps the locks of one agent id in two fleets apart: each fleet has its own home of it', async () => {
    const [a, b] = [fleetNames(randomId('locktest')), fleetNames(randomId('locktest'))];
    const leaseA = await new AgentLocks({ redis, names: a, ttlMs: 5000 }).acquire(agentId, 'step-a');
    const locksB = new AgentLocks({ redis, names: b, ttlMs: 5000 });
    const leaseB = await locksB.acquire(agentId, 'step-b');
    try {
      expect(leaseA).toBeDefined();
      expect(leaseB).toBeDefined();
      expect(await locksB.holder(agentId)).toBe('step-b');
      expect(await redis.get(a.agentLock(agentId))).toBe('step-a');
      expect(await new AgentLocks({ redis, ttlMs: 5000 }).holder(agentId)).toBeNull();
    } finally {
      await leaseA?.release();
      await leaseB?.release();
    }
    expect(await redis.exists(a.agentLock(agentId), b.agentLock(agentId))).toBe(0);
  });

  it('does not release a lock another step took after it expired', async () => {
    const locks = new AgentLocks({ redis, ttlMs: 5000 });
    const lease = await locks.acquire(agentId, 'step-1');
    await redis.set(DEFAULT_FLEET_NAMES.agentLock(agentId), 'step-2', 'PX', 5000);
    await lease?.release();
    expect(await locks.holder(agentId)).toBe('step-2');
  });
});
