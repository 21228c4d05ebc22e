import type { FleetNames, StepEvent } from '@sandfleet/contracts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CancelBus, EventSubscriber, readEvents, StepEventPublisher } from '../src/index.js';
import { collect, TestRedis, waitFor } from './helpers.js';

let env: TestRedis;
beforeEach(() => {
  env = new TestRedis();
});
afterEach(async () => {
  expect(await env.cleanup()).toBe(0);
});

const outputs = (events: StepEvent[]) =>
  events.flatMap((event) => (event.type === 'output' ? [event.data] : []));

describe('fleets on one Redis', () => {
  it("keep a step's events, fence and replay apart when both fleets use the same step id", async () => {
    const redis = env.client();
    const [a, b] = [env.fleet(), env.fleet()];
    const stepId = env.stepId();
    const subscriberB = new EventSubscriber({ redis, names: b });
    const followedB = collect(subscriberB.follow(stepId, { signal: AbortSignal.timeout(5000) }));
    await waitFor(async () => (await env.subscribers(b.events(stepId))) === 1);

    /** One attempt of the step in `names`' fleet: prints `text`, then finishes. */
    const runAttempt = async (names: FleetNames, attempt: number, text: string, exitCode: number) => {
      const publisher = await StepEventPublisher.open({
        redis,
        names,
        stepId,
        attempt,
        secrets: [],
        outputLimitBytes: 1024,
      });
      await publisher.output('stdout', Buffer.from(text));
      await publisher.finished({ status: exitCode === 0 ? 'succeeded' : 'failed', exitCode });
    };
    await runAttempt(a, 5, 'from a', 0);
    // A's finished fence and its attempt 5 do not reach B: B's attempt 1 may still publish.
    await runAttempt(b, 1, 'from b', 1);

    const seenB = await followedB;
    expect(outputs(seenB)).toEqual(['from b']);
    expect(seenB.at(-1)).toMatchObject({ type: 'finished', status: 'failed' });
    expect(outputs(await readEvents({ redis, names: a, stepId }))).toEqual(['from a']);
    expect(outputs(await readEvents({ redis, names: b, stepId }))).toEqual(['from b']);
    // Nor does either land in the default fleet's stream.
    expect(await readEvents({ redis, stepId })).toEqual([]);
    await subscriberB.close();
  });

  it("deliver a fleet's cancel requests to its own workers only", async () => {
    const redis = env.client();
    const [a, b] = [env.fleet(), env.fleet()];
    const stepId = env.stepId();
    const heardA: string[] = [];
    const heardB: string[] = [];
    const workerA = new CancelBus({ redis, names: a });
    const workerB = new CancelBus({ redis, names: b });
    await workerA.subscribe((id) => heardA.push(id));
    await workerB.subscribe((id) => heardB.push(id));
    const apiA = new CancelBus({ redis, names: a });
    expect(await apiA.publish(stepId)).toBe(1);
    await waitFor(() => heardA.length === 1);
    // Redis writes to B's connection in publish order: had A's cancel reached B, it would come first.
    await new CancelBus({ redis, names: b }).publish('marker');
    await waitFor(() => heardB.length === 1);
    expect(heardB).toEqual(['marker']);
    await Promise.all([workerA, workerB, apiA].map((bus) => bus.close()));
  });
});
