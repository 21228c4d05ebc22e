import { type BenchContext, ECHO, type MeasureResult } from '../bench-context.ts';
import { sandfleetStep } from '../sandfleet-step.ts';
import { distribution } from '../stats.ts';

/** The agent-runtime image: the only one the warm pool keeps containers of (it has the gate). */
export const WARM_IMAGE = process.env.SANDFLEET_AGENT_IMAGE_TAG || 'sandfleet/agent-runtime:minimal';
/** Room for the runtime (Node.js) besides the step. */
const WARM_LIMITS = { memoryMb: 256 };
const HITS = 'sandfleet_warm_pool_runs_total';

/**
 * Raw: a container created and started ahead, waiting on stdin (`read`); trigger → first output
 * and trigger → exit seen through `wait`. Sandfleet: one agent's steps back to back on the
 * agent-runtime image, each run by the warm container the worker pre-started when the agent's
 * previous step started (enqueue → first output at a subscriber, → `finished`). The hit rate is
 * the worker's own count (`sandfleet_warm_pool_runs_total`) over the measured steps.
 */
export async function warmLatency(ctx: BenchContext): Promise<MeasureResult> {
  const { raw, fleet, options, worker } = ctx;
  const rawHome = raw.agent();
  const agentId = fleet.agentId();
  const rawFirst: number[] = [];
  const rawExit: number[] = [];
  const ourFirst: number[] = [];
  const ourOutcome: number[] = [];
  const step = () => sandfleetStep(fleet, agentId, ECHO, 60_000, WARM_LIMITS, WARM_IMAGE);
  // The agent's home exists before the first sample, on both sides; its first step is cold.
  await raw.cycle(rawHome, ECHO);
  await step();
  let hitsBefore = 0;
  let missesBefore = 0;
  for (let round = 0; round < options.warmupRounds + options.latencySamples; round++) {
    ctx.signal.throwIfAborted();
    if (round === options.warmupRounds) {
      hitsBefore = await worker.counter(HITS, 'result="hit"');
      missesBefore = await worker.counter(HITS, 'result="miss"');
    }
    const container = await raw.warm(rawHome, ECHO.join(' '));
    try {
      const timing = await container.trigger();
      if (round >= options.warmupRounds) {
        rawFirst.push(timing.firstOutputMs);
        rawExit.push(timing.exitMs);
      }
    } finally {
      await container.remove();
    }
    const ours = await step();
    if (round < options.warmupRounds) continue;
    ourFirst.push(ours.firstOutputMs);
    ourOutcome.push(ours.outcomeMs);
  }
  const hits = (await worker.counter(HITS, 'result="hit"')) - hitsBefore;
  const misses = (await worker.counter(HITS, 'result="miss"')) - missesBefore;
  const first = { raw: distribution(rawFirst), sandfleet: distribution(ourFirst) };
  const outcome = { raw: distribution(rawExit), sandfleet: distribution(ourOutcome) };
  const n = options.latencySamples;
  return {
    name: 'warm latency',
    rows: [
      {
        measure: `warm step, enqueue → first output (median of ${n}; raw: stdin trigger)`,
        unit: 'ms',
        raw: first.raw.median,
        sandfleet: first.sandfleet.median,
        detail: first,
      },
      {
        measure: `warm step, enqueue → recorded outcome (median of ${n}; raw: exit seen by wait)`,
        unit: 'ms',
        raw: outcome.raw.median,
        sandfleet: outcome.sandfleet.median,
        detail: outcome,
      },
      {
        measure: `warm pool hit rate, one agent back to back on one worker (${n} steps)`,
        unit: '%',
        raw: '—',
        sandfleet: Math.round((hits / Math.max(1, hits + misses)) * 100),
        detail: { hits, misses },
      },
    ],
    notes: [
      `warm: Sandfleet's steps run ${WARM_IMAGE} (the pool keeps agent-runtime containers only), ` +
        'the raw side a busybox container started ahead and waiting on stdin.',
    ],
  };
}
