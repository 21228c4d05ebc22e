import pLimit from 'p-limit';
import { type BenchContext, ECHO, type MeasureResult } from '../bench-context.ts';
import { BenchWorker } from '../bench-worker.ts';
import { sandfleetStep } from '../sandfleet-step.ts';
import { since } from '../stats.ts';

/** One throughput run of one side. */
interface Run {
  stepsPerSecond: number;
  elapsedMs: number;
  /** CPU of the process doing the work (raw: the bench itself; Sandfleet: the worker), per step. */
  cpuMsPerStep: number;
}

/**
 * `throughputSteps` steps on as many new agents at each concurrency: raw full lifecycles through
 * p-limit, then a worker at that concurrency, each side timed from the first start to the last
 * end. The worker's CPU (/proc/<pid>/stat) over its run gives the CPU-ms per step; the raw
 * side's is the bench process's own CPU while it drove the engine.
 */
export async function throughput(ctx: BenchContext): Promise<MeasureResult> {
  const { fleet, options } = ctx;
  const steps = options.throughputSteps;
  const rows: MeasureResult['rows'] = [];
  const cpuRows: MeasureResult['rows'] = [];
  for (const concurrency of options.throughputConcurrencies) {
    ctx.signal.throwIfAborted();
    const rawRun = await rawThroughput(ctx, steps, concurrency);
    if (ctx.worker.concurrency !== concurrency) {
      await ctx.worker.stop();
      ctx.worker = await BenchWorker.start(fleet, concurrency);
    }
    const ourRun = await sandfleetThroughput(ctx, steps);
    ctx.progress.log(
      `throughput c=${concurrency}: raw ${rawRun.stepsPerSecond.toFixed(2)} steps/s, sandfleet ${ourRun.stepsPerSecond.toFixed(2)} steps/s`,
    );
    rows.push({
      measure: `throughput, ${steps} steps on ${steps} agents, concurrency ${concurrency}`,
      unit: 'steps/s',
      raw: rawRun.stepsPerSecond,
      sandfleet: ourRun.stepsPerSecond,
      detail: { raw: rawRun, sandfleet: ourRun },
    });
    cpuRows.push({
      measure: `CPU-ms per step (raw: bench process; ours: worker process), c=${concurrency}`,
      unit: 'CPU-ms/step',
      raw: rawRun.cpuMsPerStep,
      sandfleet: ourRun.cpuMsPerStep,
    });
  }
  return {
    name: 'throughput',
    rows: [...rows, ...cpuRows],
    notes: [
      'CPU: worker = utime+stime of the `sandfleet worker` child over the throughput run ÷ steps; raw = the ' +
        "bench's own CPU (process.cpuUsage) over the raw run ÷ steps (the engine's CPU is in neither).",
    ],
  };
}

async function rawThroughput(ctx: BenchContext, steps: number, concurrency: number): Promise<Run> {
  const { raw } = ctx;
  const homes = Array.from({ length: steps }, () => raw.agent());
  const limit = pLimit(concurrency);
  const cpu = process.cpuUsage();
  const start = performance.now();
  await Promise.all(homes.map((home) => limit(() => raw.cycle(home, ECHO))));
  const elapsedMs = since(start);
  const used = process.cpuUsage(cpu);
  return {
    stepsPerSecond: steps / (elapsedMs / 1000),
    elapsedMs,
    cpuMsPerStep: (used.user + used.system) / 1000 / steps,
  };
}

async function sandfleetThroughput(ctx: BenchContext, steps: number): Promise<Run> {
  const { fleet, worker } = ctx;
  const agents = Array.from({ length: steps }, () => fleet.agentId());
  const cpuBefore = worker.cpuMs();
  const start = performance.now();
  await Promise.all(agents.map((agentId) => sandfleetStep(fleet, agentId, ECHO, 120_000)));
  const elapsedMs = since(start);
  return {
    stepsPerSecond: steps / (elapsedMs / 1000),
    elapsedMs,
    cpuMsPerStep: (worker.cpuMs() - cpuBefore) / steps,
  };
}
