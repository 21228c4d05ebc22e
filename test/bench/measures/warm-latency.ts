import { type BenchContext, ECHO, type MeasureResult } from '../bench-context.ts';
import { sandfleetStep } from '../sandfleet-step.ts';
import { distribution } from '../stats.ts';

/**
 * Raw: a container created and started ahead, waiting on stdin; trigger → first output and
 * trigger → exit seen through `wait`. Sandfleet has no warm pool yet: its side is a repeat step
 * of an agent whose home already exists. Alternating, one container prepared per sample.
 */
export async function warmLatency(ctx: BenchContext): Promise<MeasureResult> {
  const { raw, fleet, options } = ctx;
  const rawHome = raw.agent();
  const agentId = fleet.agentId();
  const rawFirst: number[] = [];
  const rawExit: number[] = [];
  const ourFirst: number[] = [];
  const ourOutcome: number[] = [];
  // The agent's home exists before the first sample, on both sides.
  await raw.cycle(rawHome, ECHO);
  await sandfleetStep(fleet, agentId, ECHO);
  for (let round = 0; round < options.warmupRounds + options.latencySamples; round++) {
    ctx.signal.throwIfAborted();
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
    const step = await sandfleetStep(fleet, agentId, ECHO);
    if (round < options.warmupRounds) continue;
    ourFirst.push(step.firstOutputMs);
    ourOutcome.push(step.outcomeMs);
  }
  const first = { raw: distribution(rawFirst), sandfleet: distribution(ourFirst) };
  const outcome = { raw: distribution(rawExit), sandfleet: distribution(ourOutcome) };
  const n = options.latencySamples;
  return {
    name: 'warm latency',
    rows: [
      {
        measure: `warm step, → first output (median of ${n}; raw: stdin trigger; ours: repeat step)`,
        unit: 'ms',
        raw: first.raw.median,
        sandfleet: first.sandfleet.median,
        detail: first,
      },
      {
        measure: `warm step, → recorded outcome (median of ${n}; raw: exit seen by wait)`,
        unit: 'ms',
        raw: outcome.raw.median,
        sandfleet: outcome.sandfleet.median,
        detail: outcome,
      },
    ],
    notes: [
      'warm: Sandfleet has no warm pool yet; its figure is a repeat step of an agent whose home exists, ' +
        'the raw one a pre-started container waiting on stdin.',
    ],
  };
}
