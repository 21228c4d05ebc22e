import { describe, expect, it } from 'vitest';
import { type LimitPolicy, resolveLimits } from './step-limits.js';

const policy: LimitPolicy = {
  defaults: { timeoutMs: 600_000, memoryMb: 512, cpus: 1, pids: 256, outputBytes: 1_048_576, diskMb: 1024 },
  maxima: {
    timeoutMs: 3_600_000,
    memoryMb: 4096,
    cpus: 2,
    pids: 1024,
    outputBytes: 10_485_760,
    diskMb: 8192,
  },
};

describe('resolveLimits', () => {
  it('fills every limit a step leaves out with the worker default', () => {
    expect(resolveLimits({}, policy)).toEqual(policy.defaults);
  });

  it('keeps what a step asks for within the maxima, including fractions of a CPU', () => {
    expect(
      resolveLimits(
        { timeoutMs: 1000, memoryMb: 64, cpus: 0.5, pids: 32, outputBytes: 2048, diskMb: 64 },
        policy,
      ),
    ).toEqual({ timeoutMs: 1000, memoryMb: 64, cpus: 0.5, pids: 32, outputBytes: 2048, diskMb: 64 });
  });

  it('caps each limit a step asks for at the worker maximum', () => {
    expect(
      resolveLimits(
        {
          timeoutMs: 86_400_000,
          memoryMb: 65_536,
          cpus: 64,
          pids: 100_000,
          outputBytes: 1 << 30,
          diskMb: 1 << 20,
        },
        policy,
      ),
    ).toEqual(policy.maxima);
  });

  it('mixes defaults, requests and caps per limit', () => {
    expect(resolveLimits({ memoryMb: 8192, cpus: 1.5 }, policy)).toEqual({
      ...policy.defaults,
      memoryMb: 4096,
      cpus: 1.5,
    });
  });

  it('caps a default above the maximum too', () => {
    const misconfigured: LimitPolicy = { ...policy, defaults: { ...policy.defaults, timeoutMs: 7_200_000 } };
    expect(resolveLimits({}, misconfigured).timeoutMs).toBe(3_600_000);
  });
});
