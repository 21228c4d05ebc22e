import type { StepLimits } from '@sandfleet/contracts';
import type { TestFleet } from '../support/test-fleet.ts';
import { since } from './stats.ts';

/** One Sandfleet step as the bench sees it. */
export interface SandfleetTiming {
  id: string;
  /** enqueue → the first `output` event at a subscriber. */
  firstOutputMs: number;
  /** enqueue → `finished`, which the worker publishes right after it recorded the outcome. */
  outcomeMs: number;
}

/**
 * Enqueues a step (through the fleet's `StepQueue`, as the API does) and follows its events until
 * `finished`; fails unless it succeeded.
 */
export async function sandfleetStep(
  fleet: TestFleet,
  agentId: string,
  command: string[],
  timeoutMs = 60_000,
  limits: StepLimits = {},
  image?: string,
): Promise<SandfleetTiming> {
  const id = fleet.stepId();
  let firstOutputMs = 0;
  let outcomeMs = 0;
  let start = 0;
  const signal = AbortSignal.timeout(timeoutMs);
  const events = fleet.subscriber.follow(id, { afterSeq: 0, signal });
  const follow = (async () => {
    for await (const event of events) {
      if (event.type === 'output' && firstOutputMs === 0) firstOutputMs = since(start);
      if (event.type === 'finished') outcomeMs = since(start);
    }
  })();
  start = performance.now();
  await fleet.queue.enqueue({
    id,
    agentId,
    command,
    ...(Object.keys(limits).length ? { limits } : {}),
    ...(image === undefined ? {} : { image }),
  });
  await follow;
  if (outcomeMs === 0) throw new Error(`step ${id} did not finish within ${timeoutMs} ms`);
  const row = await fleet.db.steps.get(id);
  if (row?.status !== 'succeeded')
    throw new Error(`bench step ${id} ended ${row?.status}: ${row?.error ?? ''}`);
  return { id, firstOutputMs: firstOutputMs || outcomeMs, outcomeMs };
}
