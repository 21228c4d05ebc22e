import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { TEST_IMAGE, TestFleet } from '../support/test-fleet.ts';
import type { BenchContext, MeasureResult } from './bench-context.ts';
import type { BenchOptions } from './bench-options.ts';
import { BENCH_WORKER_ENV, BenchWorker } from './bench-worker.ts';
import { leftovers } from './leak-check.ts';
import { loadAverage, machineFacts } from './machine-facts.ts';
import { coldLatency } from './measures/cold-latency.ts';
import { enqueueRate } from './measures/enqueue-rate.ts';
import { outputRate } from './measures/output-rate.ts';
import { throughput } from './measures/throughput.ts';
import { warmLatency } from './measures/warm-latency.ts';
import { Progress } from './progress.ts';
import { RawDocker } from './raw-docker.ts';
import { ratio, resultsTable } from './results-table.ts';

/**
 * The limits of a step that sets none under the bench worker: the test fleet's 64 MiB, and the
 * worker defaults (1 CPU, 256 pids, 1024 MiB disk → read-only root with tmpfs scratch dirs).
 */
const STEP_LIMITS = { memoryMb: 64, cpus: 1, pids: 256, diskMb: 1024 };

const MEASURES: [string, (ctx: BenchContext) => Promise<MeasureResult>][] = [
  ['cold latency', coldLatency],
  ['warm latency', warmLatency],
  ['output MB/s', outputRate],
  ['throughput and worker CPU', throughput],
];

/** Runs every measure, prints the table, writes the JSON; the exit code (1 on failure or leak). */
export async function runBench(options: BenchOptions): Promise<number> {
  const progress = new Progress();
  const runId = `bench-${randomBytes(4).toString('hex')}`;
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    progress.log(`${signal}: stopping after the current sample, then cleaning up`);
    controller.abort(new Error(`interrupted by ${signal}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const wallStart = performance.now();
  const startedAt = new Date().toISOString();
  const raw = new RawDocker(runId, STEP_LIMITS);
  const facts = await machineFacts(raw.docker);
  const ids = [runId];
  const results: MeasureResult[] = [];
  let failure: unknown;
  let fleet: TestFleet | undefined;
  let ctx: BenchContext | undefined;
  progress.log(`run ${runId}${options.quick ? ' (quick)' : ''}, load average ${facts.loadAverage.join(' ')}`);
  try {
    await raw.init(TEST_IMAGE);
    const trackFleet = (made: TestFleet) => void ids.push(made.id);
    // The enqueue measure first, on its own fleet, before any worker uses the CPU.
    const signal = controller.signal;
    const enqueue = await progress.step('enqueue rate', () =>
      enqueueRate({ options, progress, raw, signal, trackFleet } as BenchContext),
    );
    results.push(enqueue);
    fleet = await TestFleet.create();
    trackFleet(fleet);
    const main = fleet;
    const worker = await progress.step('worker start', () =>
      BenchWorker.start(main, options.throughputConcurrencies[0] ?? 4),
    );
    ctx = { options, progress, raw, fleet, worker, signal, trackFleet };
    for (const [name, measure] of MEASURES) {
      const context = ctx;
      results.push(await progress.step(name, () => measure(context)));
    }
  } catch (error) {
    failure = error;
  } finally {
    progress.log('cleaning up');
    for (const cleanup of [() => ctx?.worker.stop(), () => fleet?.close(), () => raw.cleanup()]) {
      try {
        await cleanup();
      } catch (error) {
        progress.log(`cleanup failed: ${(error as Error).message}`);
        failure ??= error;
      }
    }
  }
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);

  const leaks = await leftovers(raw.docker, ids);
  const wallTimeS = Math.round(performance.now() - wallStart) / 1000;
  const rows = results.flatMap((result) => result.rows);
  const notes = results.flatMap((result) => result.notes ?? []);
  const header =
    `Sandfleet bench${options.quick ? ' (quick)' : ''}: trivial steps (echo hello) on ${TEST_IMAGE}, raw baselines ` +
    `with Sandfleet's container settings (network none, init, caps dropped, no-new-privileges, read-only root ` +
    `+ tmpfs, ${STEP_LIMITS.memoryMb} MiB, ${STEP_LIMITS.cpus} CPU, ${STEP_LIMITS.pids} pids, home + vault + runtime volumes), ` +
    `measured in the same run; ${facts.cpus} CPUs, load ${facts.loadAverage.join(' ')} → ${loadAverage().join(' ')}, wall ${wallTimeS} s.`;
  console.log(`${header}\n\n${resultsTable(rows, notes)}`);

  const out = resolve(process.env.INIT_CWD ?? process.cwd(), options.out);
  const json = {
    runId,
    startedAt,
    wallTimeS,
    options,
    machine: { ...facts, loadAverageBefore: facts.loadAverage, loadAverageAfter: loadAverage() },
    containerSettings: { ...STEP_LIMITS, network: 'none', readonlyRootfs: true, worker: BENCH_WORKER_ENV },
    rows: rows.map((row) => ({ ...row, ratio: ratio(row) ?? null })),
    notes,
    leaks,
    error: failure === undefined ? null : String((failure as Error).stack ?? failure),
  };
  await writeFile(out, `${JSON.stringify(json, null, 2)}\n`);
  progress.log(`figures written to ${out}`);

  if (failure !== undefined) console.error(`bench failed: ${(failure as Error).stack ?? failure}`);
  if (leaks.length > 0) console.log(`LEAK: left on the engine by run ${runId}: ${leaks.join(', ')}`);
  return failure === undefined && leaks.length === 0 ? 0 : 1;
}
