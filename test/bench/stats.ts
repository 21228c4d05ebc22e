/** The q-quantile (0…1) of `values`, nearest rank; NaN for none. */
export function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}

export const median = (values: readonly number[]): number => quantile(values, 0.5);

/** Median and p90 of samples, with the samples kept for the JSON. */
export interface Distribution {
  median: number;
  p90: number;
  samples: number[];
}

export function distribution(samples: readonly number[]): Distribution {
  const rounded = samples.map((value) => Math.round(value * 10) / 10);
  return { median: median(samples), p90: quantile(samples, 0.9), samples: rounded };
}

/** Milliseconds since `start` (a `performance.now()`). */
export const since = (start: number): number => performance.now() - start;
