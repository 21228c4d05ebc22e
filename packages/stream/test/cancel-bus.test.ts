import { DEFAULT_FLEET_NAMES } from '@sandfleet/contracts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CancelBus } from '../src/index.js';
import { TestRedis, waitFor } from './helpers.js';

let env: TestRedis;
beforeEach(() => {
  env = new TestRedis();
});
afterEach(async () => {
  expect(await env.cleanup()).toBe(0);
});

describe('CancelBus', () => {
  it('delivers a cancel request to every subscribed worker', async () => {
    const redis = env.client();
    const stepId = env.stepId();
    const workers = [new CancelBus({ redis }), new CancelBus({ redis })];
    const received: string[][] = [[], []];
    await Promise.all(workers.map((bus, i) => bus.subscribe((id) => received[i]?.push(id))));
    const api = new CancelBus({ redis });
    expect(await api.publish(stepId)).toBeGreaterThanOrEqual(2);
    await waitFor(() => received.every((ids) => ids.includes(stepId)));
    await Promise.all([...workers, api].map((bus) => bus.close()));
  });

  it('ignores malformed messages and passes handler errors to onError', async () => {
    const redis = env.client();
    const stepId = env.stepId();
    const errors: unknown[] = [];
    const bus = new CancelBus({ redis, onError: (error) => errors.push(error) });
    const received: string[] = [];
    await bus.subscribe((id) => {
      if (id === stepId) received.push(id);
    });
    await bus.subscribe((id) => {
      if (id === stepId) throw new Error('handler failed');
    });
    await redis.publish(DEFAULT_FLEET_NAMES.cancel(), 'not json');
    await redis.publish(DEFAULT_FLEET_NAMES.cancel(), JSON.stringify({ step: stepId }));
    await bus.publish(stepId);
    await waitFor(() => received.length === 1 && errors.length === 1);
    await bus.close();
    await bus.close();
  });

  it('opens a subscriber connection only when subscribing, and closes it with the bus', async () => {
    const redis = env.client();
    const bus = new CancelBus({ redis });
    await bus.publish(env.stepId());
    expect(await env.openConnections()).toBe(1);
    await bus.subscribe(() => undefined);
    expect(await env.openConnections()).toBe(2);
    await bus.close();
    await expect(bus.subscribe(() => undefined)).rejects.toMatchObject({ code: 'STREAM_SUBSCRIBER_CLOSED' });
  });
});
