import { DEFAULT_TEAM, LABELS } from '@sandfleet/contracts';
import { describe, expect, it } from 'vitest';
import { ImageAllowlist } from './image-allowlist.js';
import type { LimitPolicy } from './step-limits.js';
import { warmRequestFor } from './warm-hints.js';

const limits: LimitPolicy = {
  defaults: { timeoutMs: 60_000, memoryMb: 256, cpus: 1, pids: 256, outputBytes: 1024 * 1024, diskMb: 1024 },
  maxima: {
    timeoutMs: 3_600_000,
    memoryMb: 128,
    cpus: 4,
    pids: 1024,
    outputBytes: 16 * 1024 * 1024,
    diskMb: 8192,
  },
};
const deps = {
  workerId: 'w1',
  images: new ImageAllowlist(['sandfleet/agent-runtime:*', 'sandfleet/step:*']),
  defaultImage: 'sandfleet/step:latest',
  limits,
};

describe('warmRequestFor', () => {
  it("is the request of the agent's step with no overrides: default limits capped, no network, the default team's vault read-only", () => {
    expect(warmRequestFor({ agentId: 'alice', image: 'sandfleet/agent-runtime:1' }, deps)).toEqual({
      agentId: 'alice',
      workerId: 'w1',
      image: 'sandfleet/agent-runtime:1',
      limits: {
        timeoutMs: 60_000,
        memoryMb: 128,
        cpus: 1,
        pids: 256,
        outputBytes: 1024 * 1024,
        diskMb: 1024,
      },
      network: 'none',
      sharedVault: { team: DEFAULT_TEAM, writable: false },
    });
  });

  it("takes the worker's default image for a hint naming none, and labels the fleet when there is one", () => {
    expect(warmRequestFor({ agentId: 'bob' }, { ...deps, fleet: 'sandfleet.steps' })).toMatchObject({
      image: 'sandfleet/step:latest',
      labels: { [LABELS.fleet]: 'sandfleet.steps' },
    });
  });

  it('refuses an image outside the allowlist as a step naming it is refused', () => {
    expect(() => warmRequestFor({ agentId: 'carol', image: 'ubuntu:24.04' }, deps)).toThrow(
      expect.objectContaining({ code: 'IMAGE_NOT_ALLOWED', context: { agentId: 'carol' } }),
    );
  });
});
