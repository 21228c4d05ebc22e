import { type BenchContext, ECHO, type MeasureResult } from '../bench-context.ts';
import { sandfleetStep } from '../sandfleet-step.ts';
import { distribution } from '../stats.ts';

/**
 * A new agent every time, raw lifecycle and Sandfleet step alternating: raw create → attach →
 * start → wait → remove against enqueue → first output and enqueue → recorded outcome.
 */
export async function coldLatency(ctx: BenchContext): Promise<MeasureResult> {
  const { raw, fleet, options } = ctx;
  const rawFirst: number[] = [];
  const rawTotal: number[] = [];
  const ourFirst: number[] = [];
  const ourOutcome: number[] = [];
  for (let round = 0; round < options.warmupRounds + options.latencySamples; round++) {
    ctx.signal.throwIfAborted();
    const cycle = await raw.cycle(raw.agent(), ECHO);
    const step = await sandfleetStep(fleet, fleet.agentId(), ECHO);
    if (round < options.warmupRounds) continue;
    rawFirst.push(cycle.firstOutputMs);
    rawTotal.push(cycle.totalMs);
    ourFirst.push(step.firstOutputMs);
    ourOutcome.push(step.outcomeMs);
  }
  const first = { raw: distribution(rawFirst), sandfleet: distribution(ourFirst) };
  const outcome = { raw: distribution(rawTotal), sandfleet: distribution(ourOutcome) };
  const n = options.latencySamples;
  return {
    name: 'cold latency',
    rows: [
      {
        measure: `cold step, enqueue → recorded outcome (median of ${n}; raw: create→remove)`,
        unit: 'ms',
        raw: outcome.raw.median,
        sandfleet: outcome.sandfleet.median,
        detail: outcome,
      },
      {
        measure: `cold step, enqueue → recorded outcome (p90 of ${n})`,
        unit: 'ms',
        raw: outcome.raw.p90,
        sandfleet: outcome.sandfleet.p90,
      },
      {
        measure: `cold step, enqueue → first output (median of ${n}; raw: create→first byte)`,
        unit: 'ms',
        raw: first.raw.median,
        sandfleet: first.sandfleet.median,
        detail: first,
      },
      {
        measure: `cold step, enqueue → first output (p90 of ${n})`,
        unit: 'ms',
        raw: first.raw.p90,
        sandfleet: first.sandfleet.p90,
      },
    ],
  };
}
