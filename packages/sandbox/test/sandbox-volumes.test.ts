import { LABELS } from '@sandfleet/contracts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { docker, HOME_PREFIX, recordOutput, TestBed } from './support.js';

let bed: TestBed;
beforeEach(() => {
  bed = new TestBed();
});
afterEach(async () => {
  await bed.cleanUp();
});

async function runScript(agentId: string, script: string): Promise<string> {
  const output = recordOutput();
  const result = await bed.sandbox.run(bed.request({ agentId, argv: ['sh', '-c', script] }), output.hooks);
  expect(output.text('stderr')).toBe('');
  expect(result.exitCode).toBe(0);
  return output.text('stdout');
}

describe('volumes', () => {
  it("keeps an agent's home across runs and hides it from other agents", async () => {
    const alice = bed.agentId('alice');
    const bob = bed.agentId('bob');
    await runScript(alice, 'mkdir -p notes && echo remembered > notes/today.txt');
    expect(await runScript(alice, 'cat notes/today.txt')).toBe('remembered\n');
    expect(await runScript(bob, 'test -e /home/agent/notes && echo visible || echo absent')).toBe('absent\n');

    const home = await docker.getVolume(HOME_PREFIX + alice).inspect();
    expect(home.Labels).toMatchObject({ [LABELS.managed]: 'true', [LABELS.agentId]: alice });
  });

  it('shares the vault between agents, writable by the non-root agent user', async () => {
    const alice = bed.agentId('alice');
    const bob = bed.agentId('bob');
    await runScript(alice, 'echo team-knowledge > vault/shared/howto.md && mkdir -p vault/alice');
    expect(await runScript(bob, 'cat vault/shared/howto.md && echo more >> vault/shared/howto.md')).toBe(
      'team-knowledge\n',
    );
    expect(await runScript(alice, 'cat vault/shared/howto.md')).toBe('team-knowledge\nmore\n');

    const shared = await docker.getVolume(bed.sharedVaultVolume).inspect();
    expect(shared.Labels).toMatchObject({ [LABELS.managed]: 'true' });
  });

  it('makes the vault writable again after the volumes are re-created', async () => {
    const alice = bed.agentId('alice');
    await runScript(alice, 'touch vault/shared/one');
    await docker.getVolume(HOME_PREFIX + alice).remove();
    await docker.getVolume(bed.sharedVaultVolume).remove();
    expect(await runScript(alice, 'touch vault/shared/two && mkdir vault/alice && ls vault/shared')).toBe(
      'two\n',
    );
  });

  it("deletes an agent's home on request and says when there is none", async () => {
    const carol = bed.agentId('carol');
    await runScript(carol, 'echo kept > memo');
    expect(await bed.sandbox.removeAgentHome(carol)).toBe(true);
    expect(await bed.sandbox.removeAgentHome(carol)).toBe(false);
    expect(await runScript(carol, 'test -e memo && echo kept || echo fresh')).toBe('fresh\n');
  });
});
