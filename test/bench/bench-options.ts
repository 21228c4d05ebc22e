import { parseArgs } from 'node:util';

/** What one run measures, and how much of it. */
export interface BenchOptions {
  quick: boolean;
  /** Where the JSON figures go. */
  out: string;
  /** Cold and warm latency samples, each. */
  latencySamples: number;
  /** Unmeasured rounds before the latency samples. */
  warmupRounds: number;
  /** Steps (on as many agents) of each throughput run. */
  throughputSteps: number;
  throughputConcurrencies: number[];
  /** Bytes the output step prints. */
  outputBytes: number;
  /** Output steps, each measured worker-side and through SSE. */
  outputRuns: number;
  /** Steps enqueued by each enqueue method. */
  enqueueSteps: number;
  /** Requests in flight for the single-step API. */
  enqueueInFlight: number;
  /** Steps enqueued by each batch method (batch API, StepQueue bulk). */
  enqueueBatchSteps: number;
  /** Steps per batch request or `enqueueMany` call. */
  enqueueBatchSize: number;
  /** Batch requests in flight. */
  enqueueBatchInFlight: number;
}

const MIB = 1024 * 1024;

export const USAGE = `usage: pnpm bench [--quick] [--out FILE]
  --quick     a smaller run (about 2 minutes) to check the bench itself
  --out FILE  where the figures go as JSON (default bench-results.json in the current directory)`;

/** Parses the bench's arguments (`--quick`, `--out FILE`). */
export function benchOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      out: { type: 'string', default: 'bench-results.json' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const quick = values.quick;
  return {
    quick,
    out: values.out,
    latencySamples: quick ? 5 : 20,
    warmupRounds: quick ? 1 : 3,
    throughputSteps: quick ? 12 : 40,
    throughputConcurrencies: [4, 8],
    outputBytes: 16 * MIB,
    outputRuns: quick ? 1 : 3,
    enqueueSteps: quick ? 400 : 2000,
    enqueueInFlight: 32,
    enqueueBatchSteps: quick ? 4000 : 20_000,
    enqueueBatchSize: 500,
    enqueueBatchInFlight: 4,
  };
}
