import { startTestApi, testToken } from '../../support/test-api.ts';
import { TestFleet } from '../../support/test-fleet.ts';
import type { BenchContext, BenchRow, MeasureResult } from '../bench-context.ts';
import { since } from '../stats.ts';

const BATCH_PATH = '/v1/steps/batch';

/**
 * Steps/s of each way in, on a fleet of its own that no worker listens on (its own queue
 * prefix and schema, both removed at the end: queue obliterated, schema dropped). Each method
 * enqueues `enqueueSteps` trivial steps of new ids.
 */
export async function enqueueRate(ctx: BenchContext): Promise<MeasureResult> {
  const { options } = ctx;
  const n = options.enqueueSteps;
  const fleet = await TestFleet.create();
  ctx.trackFleet(fleet);
  const token = testToken();
  const api = await startTestApi(fleet, { SANDFLEET_API_TOKENS: token }).catch(async (error: unknown) => {
    await fleet.close();
    throw error;
  });
  try {
    const agentId = fleet.agentId();
    const spec = (id: string) => ({ id, agentId, command: ['echo', 'hello'] });
    const ids = () => Array.from({ length: n }, () => fleet.stepId());
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };

    // Single API: `inFlight` requests at a time, after an unmeasured round (connections, JIT).
    const post = async (batch: string[]) => {
      let next = 0;
      await Promise.all(
        Array.from({ length: options.enqueueInFlight }, async () => {
          while (next < batch.length) {
            const id = batch[next++] as string;
            const response = await fetch(`${api.url}/v1/steps`, {
              method: 'POST',
              headers,
              body: JSON.stringify(spec(id)),
            });
            if (!response.ok)
              throw new Error(`POST /v1/steps answered ${response.status}: ${await response.text()}`);
            await response.arrayBuffer();
          }
        }),
      );
    };
    await post(Array.from({ length: options.enqueueInFlight * 4 }, () => fleet.stepId()));
    const single = ids();
    const start = performance.now();
    await post(single);
    const singleRate = n / (since(start) / 1000);

    // Batch API, when there is one.
    const probe = await fetch(`${api.url}${BATCH_PATH}`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ steps: [] }),
    });
    await probe.arrayBuffer();
    const batch: BenchRow['sandfleet'] =
      probe.status === 404 ? 'n/a (no batch endpoint yet)' : 'n/a (not measured)';

    // StepQueue bulk, when it has a bulk method.
    const bulk = (fleet.queue as unknown as { enqueueMany?: unknown }).enqueueMany;
    const queueBulk: BenchRow['sandfleet'] =
      typeof bulk === 'function' ? 'n/a (not measured)' : 'n/a (StepQueue has no bulk method yet)';

    // Raw BullMQ addBulk of the same job data and options as the API's jobs.
    const template = await fleet.queue.queue.getJob(single[0] as string);
    if (!template) throw new Error('the first enqueued step has no job');
    const jobs = ids().map((id) => ({
      name: template.name,
      data: { ...template.data, id },
      opts: { ...template.opts, jobId: id },
    }));
    const rawStart = performance.now();
    await fleet.queue.queue.addBulk(jobs);
    const rawRate = n / (since(rawStart) / 1000);
    const counts = await fleet.queue.queue.getJobCounts('waiting', 'prioritized', 'delayed');

    return {
      name: 'enqueue',
      rows: [
        {
          measure: `enqueue, POST /v1/steps, ${options.enqueueInFlight} in flight (${n} steps; raw: addBulk)`,
          unit: 'steps/s',
          raw: rawRate,
          sandfleet: singleRate,
          detail: { steps: n, jobsInQueue: counts },
        },
        { measure: 'enqueue, batch API', unit: 'steps/s', raw: rawRate, sandfleet: batch },
        { measure: 'enqueue, StepQueue bulk', unit: 'steps/s', raw: rawRate, sandfleet: queueBulk },
      ],
      notes: [
        'enqueue: on a queue prefix no worker listens on; jobs obliterated and rows dropped afterwards.',
      ],
    };
  } finally {
    await api.close();
    await fleet.close();
  }
}
