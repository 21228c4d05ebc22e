import { LABELS } from '@sandfleet/contracts';
import { describe, expect, it } from 'vitest';
import type { SandboxRunRequest } from '../sandbox.js';
import { containerEnv, containerLabels, containerName, containerSpec } from './container-spec.js';
import { dockerSandboxConfig } from './docker-sandbox-options.js';

const request: SandboxRunRequest = {
  stepId: 'step-1',
  agentId: 'ada',
  workerId: 'w1',
  attempt: 3,
  image: 'img',
  argv: ['true'],
  env: { A: '1', SANDFLEET_INPUT: 'stale' },
  files: [],
  limits: { timeoutMs: 1000, memoryMb: 64, cpus: 1, pids: 64 },
  network: 'none',
};

describe('container spec', () => {
  it('names containers after step and attempt with a random suffix', () => {
    expect(containerName(request)).toMatch(/^sandfleet-step-1-3-[0-9a-f]{4}$/);
  });

  it('never lets extra labels override the contract labels', () => {
    const labels = containerLabels({ ...request, labels: { [LABELS.workerId]: 'forged', team: 'blue' } });
    expect(labels).toEqual({
      team: 'blue',
      [LABELS.managed]: 'true',
      [LABELS.stepId]: 'step-1',
      [LABELS.agentId]: 'ada',
      [LABELS.workerId]: 'w1',
      [LABELS.attempt]: '3',
    });
  });

  it('adds the input variables, leaving SANDFLEET_INPUT out for large inputs', () => {
    expect(containerEnv({ ...request, input: 'hi' })).toEqual([
      'A=1',
      'SANDFLEET_INPUT=hi',
      'SANDFLEET_INPUT_FILE=/sandfleet/input',
    ]);
    expect(containerEnv({ ...request, input: 'x'.repeat(64 * 1024 + 1) })).toEqual([
      'A=1',
      'SANDFLEET_INPUT_FILE=/sandfleet/input',
    ]);
    expect(containerEnv(request)).toEqual(['A=1', 'SANDFLEET_INPUT=stale']);
  });

  it("mounts the team's shared vault, read-only unless the run may write it", () => {
    const config = dockerSandboxConfig({});
    const vaultMount = (sharedVault?: SandboxRunRequest['sharedVault']) => {
      const spec = containerSpec({
        request: { ...request, ...(sharedVault ? { sharedVault } : {}) },
        config,
        imageId: 'sha256:x',
        imageUser: 'agent',
        networkMode: 'none',
        volumeInstances: { home: 'home-1', shared: 'shared-1' },
      });
      const mount = spec.HostConfig?.Mounts?.find((m) => m.Target === '/home/agent/vault/shared');
      const labels = (mount?.VolumeOptions as { Labels?: Record<string, string> } | undefined)?.Labels;
      expect(labels?.['sandfleet.volume-instance']).toBe('shared-1');
      return { source: mount?.Source, readOnly: mount?.ReadOnly };
    };
    expect(vaultMount()).toEqual({ source: 'sandfleet-vault-shared', readOnly: true });
    expect(vaultMount({ team: 'shared', writable: true })).toEqual({
      source: 'sandfleet-vault-shared',
      readOnly: false,
    });
    expect(vaultMount({ team: 'team-a', writable: false })).toEqual({
      source: 'sandfleet-vault-team-a',
      readOnly: true,
    });
  });
});
