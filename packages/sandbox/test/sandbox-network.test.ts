import { LABELS } from '@sandfleet/contracts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { docker, recordOutput, TestBed } from './support.js';

let bed: TestBed;
beforeEach(() => {
  bed = new TestBed();
});
afterEach(async () => {
  await bed.cleanUp();
});

describe('network', () => {
  it('gives a step with network none no interface but loopback', async () => {
    const output = recordOutput();
    await bed.sandbox.run(bed.request({ argv: ['ls', '/sys/class/net'], network: 'none' }), output.hooks);
    expect(output.text('stdout').split(/\s+/).filter(Boolean)).toEqual(['lo']);
  });

  it('creates one agents network on demand, even when two sandboxes race to create it', async () => {
    const runs = [bed.sandbox, bed.newSandbox()].map((sandbox) => {
      const output = recordOutput();
      const request = bed.request({ argv: ['ls', '/sys/class/net'], network: 'egress' });
      return { output, result: sandbox.run(request, output.hooks) };
    });
    const results = await Promise.all(runs.map((run) => run.result));
    const outputs = runs.map((run) => run.output);
    expect(results.map((r) => r.exitCode)).toEqual([0, 0]);
    for (const output of outputs) expect(output.text('stdout')).toMatch(/eth0/);

    const networks = (await docker.listNetworks({ filters: { name: [bed.agentsNetwork] } })).filter(
      (n) => n.Name === bed.agentsNetwork,
    );
    expect(networks).toHaveLength(1);
    expect(networks[0]?.Driver).toBe('bridge');
    expect(networks[0]?.Labels).toMatchObject({ [LABELS.managed]: 'true' });
    expect(networks[0]?.Options).toMatchObject({ 'com.docker.network.bridge.enable_icc': 'false' });
  });
});
