import { SandfleetClient } from '@sandfleet/client';
import { startTestApi, testToken } from '../../support/test-api.ts';
import type { BenchContext, MeasureResult } from '../bench-context.ts';
import { BENCH_OUTPUT_LIMIT } from '../bench-worker.ts';
import { median, since } from '../stats.ts';

const MB = 1e6;

/**
 * A step printing `outputBytes` (`yes … | head -c`), against `docker attach` reading the same
 * command's output on the raw side. Worker-side: the output path, the first `output` event's `ts`
 * → the `finished` event's (both stamped by the worker), as the raw side times start → end of its
 * attach stream; once for a step nobody follows and once while an SSE client follows (the row's
 * `startedAt` → `finishedAt`, which also holds the create and start, stays in the JSON). Through SSE: enqueued with `@sandfleet/client` (`POST /v1/steps`) and
 * followed with its `events()` until `finished`, as `sandfleet run` does.
 */
export async function outputRate(ctx: BenchContext): Promise<MeasureResult> {
  const { raw, fleet, options } = ctx;
  const bytes = options.outputBytes;
  const command = ['sh', '-c', `yes 0123456789abcdef | head -c ${bytes}`];
  const token = testToken();
  const api = await startTestApi(fleet, { SANDFLEET_API_TOKENS: token });
  const rawRates: number[] = [];
  const workerRates: number[] = [];
  const pathRates: number[] = [];
  const quietRates: number[] = [];
  const sseRates: number[] = [];
  const runs: Record<string, unknown>[] = [];
  try {
    const client = new SandfleetClient({ baseUrl: api.url, token });
    const agentId = fleet.agentId();
    const home = raw.agent();
    for (let run = 0; run < options.outputRuns; run++) {
      ctx.signal.throwIfAborted();
      const cycle = await raw.cycle(home, command);
      if (cycle.bytes !== bytes) throw new Error(`raw attach read ${cycle.bytes} bytes, not ${bytes}`);
      rawRates.push(bytes / MB / (cycle.streamMs / 1000));

      const start = performance.now();
      const { id } = await client.createStep({
        agentId,
        command,
        limits: { outputBytes: BENCH_OUTPUT_LIMIT },
      });
      let received = 0;
      let firstOutputMs = 0;
      let firstOutputTs = '';
      let finishedTs = '';
      for await (const event of client.events(id)) {
        if (event.type === 'finished') finishedTs = event.ts;
        if (event.type !== 'output') continue;
        if (firstOutputMs === 0) firstOutputMs = since(start);
        firstOutputTs ||= event.ts;
        received += Buffer.byteLength(event.data, 'utf8');
      }
      const endToEndMs = since(start);
      const row = await fleet.db.steps.get(id);
      if (row?.status !== 'succeeded') throw new Error(`output step ${id} ended ${row?.status}`);
      if (received !== bytes)
        throw new Error(`the client received ${received} bytes of output, not ${bytes}`);
      if (!row.startedAt || !row.finishedAt) throw new Error(`output step ${id} has no start or end time`);
      const workerMs = new Date(row.finishedAt).getTime() - new Date(row.startedAt).getTime();
      workerRates.push(bytes / MB / (workerMs / 1000));
      // At least 1 ms: the worker's clock stamps in milliseconds.
      const pathMs = Math.max(1, Date.parse(finishedTs) - Date.parse(firstOutputTs));
      pathRates.push(bytes / MB / (pathMs / 1000));
      sseRates.push(bytes / MB / (endToEndMs / 1000));
      const quietMs = await quietPathMs(ctx, agentId, command, bytes);
      quietRates.push(bytes / MB / (quietMs / 1000));
      runs.push({
        rawStreamMs: cycle.streamMs,
        workerMs,
        pathMs,
        quietMs,
        endToEndMs,
        firstOutputMs,
        outputBytes: row.outputBytes,
      });
    }
  } finally {
    await api.close();
  }
  const rawRate = median(rawRates);
  const mib = (bytes / 1024 / 1024).toFixed(0);
  return {
    name: 'output',
    rows: [
      {
        measure: `output ${mib} MiB, worker-side, nobody following (first output event → finished, worker clock; raw: docker attach)`,
        unit: 'MB/s',
        raw: rawRate,
        sandfleet: median(quietRates),
        detail: { runs, rawRates, quietRates, workerRates },
      },
      {
        measure: `output ${mib} MiB, worker-side while an SSE client follows (same clock)`,
        unit: 'MB/s',
        raw: rawRate,
        sandfleet: median(pathRates),
        detail: { pathRates },
      },
      {
        measure: `output ${mib} MiB, to an SSE client (POST → finished at the client; raw: attach)`,
        unit: 'MB/s',
        raw: rawRate,
        sandfleet: median(sseRates),
        detail: { sseRates },
      },
    ],
  };
}

/**
 * A step of `command` that nobody follows (as a worker's steps mostly run), waited for on its
 * row; its output path from the replay stream's timestamps: first `output` → `finished`, ms.
 */
async function quietPathMs(
  ctx: BenchContext,
  agentId: string,
  command: string[],
  bytes: number,
): Promise<number> {
  const { fleet } = ctx;
  const id = fleet.stepId();
  await fleet.queue.enqueue({ id, agentId, command, limits: { outputBytes: BENCH_OUTPUT_LIMIT } });
  const row = await fleet.terminal(id, 60_000);
  if (row.status !== 'succeeded' || row.outputBytes !== bytes)
    throw new Error(`output step ${id} ended ${row.status} with ${row.outputBytes} bytes, not ${bytes}`);
  const events = await fleet.replay(id);
  const first = events.find((event) => event.type === 'output');
  const finished = events.find((event) => event.type === 'finished');
  if (!first || !finished) throw new Error(`output step ${id} has no output or finished event`);
  return Math.max(1, Date.parse(finished.ts) - Date.parse(first.ts));
}
