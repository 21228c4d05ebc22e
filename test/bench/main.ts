/**
 * `pnpm bench`: Sandfleet against raw Docker, measured in the same run, as one table
 * (`measure | raw baseline | sandfleet | ratio`) on stdout and every figure as JSON.
 *
 *   pnpm bench                      # the full run, about 5 minutes on 2 cores
 *   pnpm bench --quick              # a smaller run (about 2 minutes) to check the bench itself
 *   pnpm bench --out /tmp/b.json    # where the JSON goes (default: bench-results.json in the cwd)
 *
 * Needs what the system tests need (infra/setup.sh): PostgreSQL, Redis, Docker, the built
 * packages and the `sandfleet/test-busybox` image. Progress goes to stderr.
 *
 * Measures (each raw baseline uses Sandfleet's container settings, mirrored in raw-docker.ts):
 * - cold latency: enqueue → first output and → recorded outcome, a new agent each time; raw
 *   dockerode create → attach → start → wait → remove;
 * - warm latency: a repeat step of an agent whose home exists (Sandfleet has no warm pool yet);
 *   raw: a pre-started container waiting on stdin, trigger → first output and → exit seen by wait;
 * - throughput: steps on as many agents at worker concurrency 4 and 8; raw: p-limit, full cycles;
 * - output MB/s of a 16 MiB step, worker-side and to an SSE client; raw: docker attach;
 * - enqueue rate: POST /v1/steps (32 in flight), POST /v1/steps/batch (500 a request, 4 in
 *   flight) and StepQueue.enqueueMany (500 a call), raw BullMQ addBulk of the same job data, on a
 *   queue prefix no worker listens on;
 * - worker CPU-ms per step: /proc/<pid>/stat of the `sandfleet worker` child over the throughput runs.
 *
 * Everything the run makes (containers, volumes, networks, queues, rows, worker processes) is
 * removed at the end, even on failure; a leak line and exit code 1 say when something was left.
 */
import { benchOptions } from './bench-options.ts';
import { resolveTsFromJs } from './ts-resolution.ts';

resolveTsFromJs();
const { runBench } = await import('./run-bench.ts');
process.exitCode = await runBench(benchOptions(process.argv.slice(2)));
