import type { StepLimits } from '@sandfleet/contracts';

/** Limits a step runs under once defaults are filled in and maxima applied. */
export interface ResolvedLimits {
  timeoutMs: number;
  memoryMb: number;
  cpus: number;
  pids: number;
  outputBytes: number;
  /** MiB of the home's filesystem and of each tmpfs scratch directory. */
  diskMb: number;
}

/** A worker's default and maximum for each limit. */
export interface LimitPolicy {
  defaults: ResolvedLimits;
  maxima: ResolvedLimits;
}

/** Fills in the worker's defaults and caps each limit at the worker's maximum. */
export function resolveLimits(requested: StepLimits, policy: LimitPolicy): ResolvedLimits {
  const pick = (key: keyof ResolvedLimits) =>
    Math.min(requested[key] ?? policy.defaults[key], policy.maxima[key]);
  return {
    timeoutMs: pick('timeoutMs'),
    memoryMb: pick('memoryMb'),
    cpus: pick('cpus'),
    pids: pick('pids'),
    outputBytes: pick('outputBytes'),
    diskMb: pick('diskMb'),
  };
}
