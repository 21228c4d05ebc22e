import { startTestApi, testToken } from '../../support/test-api.ts';
import { TestFleet } from '../../support/test-fleet.ts';
import type { BenchContext, MeasureResult } from '../bench-context.ts';
import { since } from '../stats.ts';

const BATCH_PATH = '/v1/steps/batch';

/**
 * Steps/s of each way in, on a fleet of its own that no worker listens on (its own queue
 * prefix and schema, both removed at the end: queue obliterated, schema dropped). The single
 * API enqueues `enqueueSteps` trivial steps of new ids, the batch API and StepQueue bulk
 * `enqueueBatchSteps` in chunks of `enqueueBatchSize`.
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

    // Batch API: `enqueueBatchSize` steps a request, `enqueueBatchInFlight` requests at a time.
    const chunks = (all: string[]) =>
      Array.from({ length: Math.ceil(all.length / options.enqueueBatchSize) }, (_, i) =>
        all.slice(i * options.enqueueBatchSize, (i + 1) * options.enqueueBatchSize),
      );
    const postBatches = async (all: string[]) => {
      const batches = chunks(all);
      let next = 0;
      await Promise.all(
        Array.from({ length: options.enqueueBatchInFlight }, async () => {
          while (next < batches.length) {
            const batch = batches[next++] as string[];
            const response = await fetch(`${api.url}${BATCH_PATH}`, {
              method: 'POST',
              headers,
              body: JSON.stringify({ steps: batch.map(spec) }),
            });
            const text = await response.text();
            if (!response.ok) throw new Error(`POST ${BATCH_PATH} answered ${response.status}: ${text}`);
            const { results } = JSON.parse(text) as { results: { created?: boolean }[] };
            if (results.length !== batch.length || results.some((r) => r.created !== true))
              throw new Error(`POST ${BATCH_PATH} did not create every step: ${text.slice(0, 500)}`);
          }
        }),
      );
    };
    const nBatch = options.enqueueBatchSteps;
    const batchIds = (length: number) => Array.from({ length }, () => fleet.stepId());
    await postBatches(batchIds(options.enqueueBatchSize * options.enqueueBatchInFlight));
    const batchStart = performance.now();
    await postBatches(batchIds(nBatch));
    const batch = nBatch / (since(batchStart) / 1000);

    // StepQueue.enqueueMany (rows in PostgreSQL, jobs by addBulk), one call per chunk.
    const enqueueChunks = async (all: string[]) => {
      for (const chunk of chunks(all)) {
        const results = await fleet.queue.enqueueMany(chunk.map(spec));
        if (results.some((r) => !('created' in r) || !r.created))
          throw new Error('StepQueue.enqueueMany did not create every step');
      }
    };
    await enqueueChunks(batchIds(options.enqueueBatchSize));
    const bulkStart = performance.now();
    await enqueueChunks(batchIds(nBatch));
    const queueBulk = nBatch / (since(bulkStart) / 1000);

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
        {
          measure: `enqueue, POST ${BATCH_PATH}, ${options.enqueueBatchSize} a request, ${options.enqueueBatchInFlight} in flight (${nBatch} steps)`,
          unit: 'steps/s',
          raw: rawRate,
          sandfleet: batch,
          detail: {
            steps: nBatch,
            batchSize: options.enqueueBatchSize,
            inFlight: options.enqueueBatchInFlight,
          },
        },
        {
          measure: `enqueue, StepQueue.enqueueMany, ${options.enqueueBatchSize} a call (${nBatch} steps)`,
          unit: 'steps/s',
          raw: rawRate,
          sandfleet: queueBulk,
          detail: { steps: nBatch, batchSize: options.enqueueBatchSize },
        },
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
