import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_FLEET_NAMES, type StepEvent } from '@sandfleet/contracts';
import Docker from 'dockerode';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TestFleet } from './support/test-fleet.js';

const docker = new Docker({ socketPath: '/var/run/docker.sock' });
/** Where the workers (default `SANDFLEET_DISKS_DIR`) keep the images of size-limited volumes. */
const DISKS_DIR = '/var/lib/sandfleet/disks';

const outputOf = (events: StepEvent[]) =>
  events.flatMap((event) => (event.type === 'output' ? [event.data] : [])).join('');

/** Names of the volumes on the engine that start with `prefix`. */
async function volumesStartingWith(prefix: string): Promise<string[]> {
  const { Volumes } = await docker.listVolumes({ filters: { name: [prefix] } });
  return (Volumes ?? []).map((volume) => volume.Name).filter((name) => name.startsWith(prefix));
}

// Two fleets, as two teams would run them on one Redis and one Docker engine, differing only in
// SANDFLEET_QUEUE_PREFIX. Each test uses the same step and agent ids in both, as an attacker who
// knows the other fleet's ids would; nothing of one fleet may reach the other.
describe('two fleets on one Redis and one Docker engine', () => {
  let a: TestFleet;
  let b: TestFleet;

  beforeAll(async () => {
    [a, b] = await Promise.all([TestFleet.create(), TestFleet.create()]);
    const env = { SANDFLEET_WORKER_CONCURRENCY: '2', SANDFLEET_AGENT_BUSY_RETRY_MS: '100' };
    await Promise.all([a.startWorker(env), b.startWorker(env)]);
  });

  afterEach(async () => {
    expect(await a.leftovers()).toEqual([]);
    expect(await b.leftovers()).toEqual([]);
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
    // Homes and vaults of both fleets went with them, disk images included.
    for (const fleet of [a, b]) {
      if (!fleet) continue;
      expect(await volumesStartingWith(`${fleet.prefix}-`)).toEqual([]);
      expect(existsSync(join(DISKS_DIR, `${fleet.names.sharedVaultVolume}.ext4`))).toBe(false);
    }
  });

  it("keeps each fleet's events, cancels and agent locks to itself for the same step and agent ids", async () => {
    const stepId = a.stepId();
    const agentId = b.agentId(a.agentId());
    const eventsA = a.events(stepId);
    const eventsB = b.events(stepId);
    const printed = (fleet: TestFleet, text: string) =>
      fleet.until(`${fleet.prefix} to print ${text}`, async () =>
        outputOf(await fleet.replay(stepId)).includes(text),
      );

    await a.queue.enqueue({ id: stepId, agentId, command: { script: 'echo started-a; sleep 60' } });
    await printed(a, 'started-a');
    // The agent is busy in A. Had B shared A's agent lock, its step would wait out A's.
    await b.queue.enqueue({
      id: stepId,
      agentId,
      command: { script: 'echo started-b; sleep 4; echo done-b' },
    });
    await printed(b, 'started-b');
    expect((await a.db.steps.get(stepId))?.status).toBe('running');

    // A cancel in A reaches A's worker only: B's step of the same id runs to its end.
    expect(await a.cancel(stepId)).toMatchObject({ accepted: true });
    expect(await a.terminal(stepId)).toMatchObject({ status: 'cancelled' });
    expect(await b.terminal(stepId)).toMatchObject({ status: 'succeeded', output: 'started-b\ndone-b\n' });

    // Each fleet's subscriber saw its own step only, to its own `finished`; A's finished fence
    // did not silence B, which kept publishing after it.
    const [seenA, seenB] = await Promise.all([eventsA, eventsB]);
    expect(outputOf(seenA)).toBe('started-a\n');
    expect(seenA.at(-1)).toMatchObject({ type: 'finished', status: 'cancelled' });
    expect(outputOf(seenB)).toBe('started-b\ndone-b\n');
    expect(seenB.at(-1)).toMatchObject({ type: 'finished', status: 'succeeded' });
    expect(seenB.map((event) => event.seq)).toEqual(seenB.map((_, i) => i + 1));
    // Nothing went to the default fleet's names either.
    expect(
      await a.redis.exists(DEFAULT_FLEET_NAMES.events(stepId), DEFAULT_FLEET_NAMES.agentLock(agentId)),
    ).toBe(0);
  });

  it('gives the same agent id a home and a shared vault of its own in each fleet', async () => {
    const agentId = b.agentId(a.agentId());
    const note = `vault/shared/note-${a.id}.md`;
    const run = async (fleet: TestFleet, script: string) => {
      const id = fleet.stepId();
      await fleet.queue.enqueue({ id, agentId, command: { script }, sharedVault: { access: 'write' } });
      return fleet.terminal(id);
    };
    const probe = `for f in notes.txt ${note}; do test -e "$f" && cat "$f" || echo "no $f"; done`;

    expect(await run(a, `echo home-of-a > notes.txt; echo vault-of-a > ${note}`)).toMatchObject({
      status: 'succeeded',
    });
    // The control: A's next step finds both.
    expect(await run(a, probe)).toMatchObject({ output: 'home-of-a\nvault-of-a\n' });
    expect(await run(b, probe)).toMatchObject({ status: 'succeeded', output: `no notes.txt\nno ${note}\n` });
    expect(await run(b, `echo home-of-b > notes.txt; echo vault-of-b > ${note}`)).toMatchObject({
      status: 'succeeded',
    });
    expect(await run(a, probe)).toMatchObject({ output: 'home-of-a\nvault-of-a\n' });

    expect(await volumesStartingWith(a.names.homeVolume(agentId))).toEqual([a.names.homeVolume(agentId)]);
    expect(await volumesStartingWith(b.names.homeVolume(agentId))).toEqual([b.names.homeVolume(agentId)]);
    expect(await volumesStartingWith(`sandfleet-home-${agentId}`)).toEqual([]);
  });
});
