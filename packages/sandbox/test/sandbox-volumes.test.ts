import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { stat, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { LABELS } from '@sandfleet/contracts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isSandboxError, type SandboxSharedVault } from '../src/index.js';
import { DiskTestBed, mountsUnder } from './disk-test-bed.js';
import { docker, HOME_PREFIX, recordOutput, STEP_IMAGE, TestBed } from './support.js';

const exec = promisify(execFile);

let bed: TestBed;
beforeEach(() => {
  bed = new TestBed();
});
afterEach(async () => {
  await bed.cleanUp();
});

/** The default team's vault, writable: what the vault tests of one team need. */
const WRITABLE = { team: 'shared', writable: true } as const;

async function runScript(
  agentId: string,
  script: string,
  sharedVault: SandboxSharedVault = WRITABLE,
): Promise<string> {
  const output = recordOutput();
  const request = bed.request({ agentId, argv: ['sh', '-c', script], sharedVault });
  const result = await bed.sandbox.run(request, output.hooks);
  // The volumes are removed behind the engine's back below: the container must be gone first.
  await result.removed;
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

  it('gives a new agent its vault with no upload when the image carries the skeleton, else uploads once', async () => {
    const alice = bed.agentId('alice');
    // TEST_IMAGE is labelled with the skeleton: the create that made the volumes filled them.
    expect(
      await runScript(alice, 'touch vault/shared/a && mkdir vault/alice && stat -c %u vault vault/shared'),
    ).toBe('1000\n1000\n');
    expect(await bed.containerEvents('extract-to-dir')).toBe(0);

    // An image without the skeleton (its home has no vault/): the engine makes the mount point
    // root's, so the run uploads the directories, once for this home.
    const bob = bed.agentId('bob');
    const inStep = async (script: string) => {
      const output = recordOutput();
      const request = bed.request({
        agentId: bob,
        image: STEP_IMAGE,
        argv: ['sh', '-c', script],
        sharedVault: WRITABLE,
      });
      const result = await bed.sandbox.run(request, output.hooks);
      expect(output.text('stderr')).toBe('');
      expect(result.exitCode).toBe(0);
      return output.text('stdout');
    };
    expect(await inStep('touch vault/shared/b && mkdir vault/bob && stat -c %u vault')).toBe('1000\n');
    expect(await bed.containerEvents('extract-to-dir')).toBe(1);
    expect(await inStep('ls vault/shared')).toBe('a\nb\n');
    expect(await bed.containerEvents('extract-to-dir')).toBe(1);
  });

  it('prepares a home the run did not make, even from an image with the skeleton', async () => {
    // Made before the run (as an operator or an older worker would): empty, so the engine still
    // copies the image's home into it, but only a create of this run proves that; it uploads.
    const carol = bed.agentId('carol');
    await docker.createVolume({ Name: HOME_PREFIX + carol, Labels: { [LABELS.managed]: 'true' } });
    expect(await runScript(carol, 'mkdir vault/carol && touch vault/shared/c && echo ok')).toBe('ok\n');
    expect(await bed.containerEvents('extract-to-dir')).toBe(1);
  });

  it('mounts the vault read-only for a run that may not write it, whatever the step tries', async () => {
    const writer = bed.agentId('writer');
    const intruder = bed.agentId('intruder');
    await runScript(writer, 'mkdir -p vault/shared/notes && echo trusted > vault/shared/notes/howto.md');
    const readOnly = { team: 'shared', writable: false };
    const attempts = [
      'echo forged > vault/shared/notes/howto.md',
      'rm -f vault/shared/notes/howto.md',
      'mv vault/shared/notes vault/shared/moved',
      'touch vault/shared/planted',
      'chmod 777 vault/shared/notes',
      'mount -o remount,rw vault/shared',
    ];
    const output = recordOutput();
    const script = `${attempts.map((a) => `${a} 2>/dev/null && echo "wrote: ${a}"`).join('; ')}; cat vault/shared/notes/howto.md`;
    const request = bed.request({ agentId: intruder, argv: ['sh', '-c', script], sharedVault: readOnly });
    await bed.sandbox.run(request, output.hooks);
    // It reads the team's knowledge, and changed none of it.
    expect(output.text('stdout')).toBe('trusted\n');
    expect(
      await runScript(writer, 'ls -A vault/shared vault/shared/notes; cat vault/shared/notes/howto.md'),
    ).toBe('vault/shared:\nnotes\n\nvault/shared/notes:\nhowto.md\ntrusted\n');
  });

  it("gives each team its own vault, and no team sees another's", async () => {
    const red = bed.team('red');
    const blue = bed.team('blue');
    const a = bed.agentId('a');
    const b = bed.agentId('b');
    await runScript(a, 'echo red-secret > vault/shared/plan.md', { team: red, writable: true });
    expect(await runScript(b, 'ls -A vault/shared; echo end', { team: blue, writable: true })).toBe('end\n');
    expect(await runScript(b, 'ls -A vault/shared; echo end', { team: 'shared', writable: false })).toBe(
      'end\n',
    );
    expect(await runScript(b, 'cat vault/shared/plan.md', { team: red, writable: false })).toBe(
      'red-secret\n',
    );
    const volume = await docker.getVolume(bed.teamVaultVolumePrefix + red).inspect();
    expect(volume.Labels).toMatchObject({ [LABELS.managed]: 'true' });
  });

  it('refuses a file for a read-only vault before creating anything', async () => {
    const request = bed.request({
      files: [{ path: 'vault/shared/planted.sh', content: 'x', encoding: 'utf8' }],
      sharedVault: { team: 'shared', writable: false },
    });
    const failure = await bed.sandbox.run(request, recordOutput().hooks).catch((error: unknown) => error);
    expect(isSandboxError(failure) && failure.code).toBe('INVALID_REQUEST');
    expect((failure as Error).message).toContain('files.0.path: is in the shared vault');
    expect(await bed.containersCreated()).toBe(0);
  });

  it("deletes an agent's home as soon as its step's outcome is known, while its container is removed", async () => {
    const dora = bed.agentId('dora');
    const result = await bed.sandbox.run(
      bed.request({ agentId: dora, argv: ['true'] }),
      recordOutput().hooks,
    );
    expect(result.exitCode).toBe(0);
    expect(await bed.sandbox.removeAgentHome(dora)).toBe(true);
    await result.removed;
  });

  it("deletes an agent's home on request and says when there is none", async () => {
    const carol = bed.agentId('carol');
    await runScript(carol, 'echo kept > memo');
    expect(await bed.sandbox.removeAgentHome(carol)).toBe(true);
    expect(await bed.sandbox.removeAgentHome(carol)).toBe(false);
    expect(await runScript(carol, 'test -e memo && echo kept || echo fresh')).toBe('fresh\n');
  });
});

describe('size-limited homes', () => {
  let disks: DiskTestBed;
  beforeEach(async () => {
    disks = await DiskTestBed.create();
  });
  afterEach(async () => {
    await disks.cleanUp();
  });

  const limits = (diskMb: number) => ({ timeoutMs: 30_000, memoryMb: 64, cpus: 1, pids: 64, diskMb });

  async function runDisk(agentId: string, diskMb: number, script: string): Promise<string> {
    const output = recordOutput();
    const result = await disks.sandbox.run(
      disks.request({ agentId, argv: ['sh', '-c', script], limits: limits(diskMb) }),
      output.hooks,
    );
    await result.removed;
    expect(output.text('stderr')).toBe('');
    expect(result.exitCode).toBe(0);
    return output.text('stdout');
  }

  const homeSizeMb = "df -m /home/agent | tail -1 | awk '{print $2}'";

  it('keeps a limited home across runs, grows it for a larger limit and never shrinks it', async () => {
    const alice = disks.agentId('alice');
    await runDisk(alice, 32, 'echo remembered > notes.txt');
    const small = Number(await runDisk(alice, 32, homeSizeMb));
    expect(await runDisk(alice, 96, `cat notes.txt; ${homeSizeMb}`)).toMatch(/^remembered\n\d+\n$/);
    const grown = Number((await runDisk(alice, 96, homeSizeMb)).trim());
    expect(small).toBeLessThanOrEqual(32);
    expect(grown).toBeGreaterThan(64);
    expect(grown).toBeLessThanOrEqual(96);
    expect(Number(await runDisk(alice, 32, homeSizeMb))).toBe(grown);
    const volume = await docker.getVolume(HOME_PREFIX + alice).inspect();
    expect(volume.Labels).toMatchObject({ [LABELS.managed]: 'true', [LABELS.agentId]: alice });
    expect(volume.Labels['sandfleet.disk-image']).toBe(`${disks.disksDir}/${HOME_PREFIX}${alice}.ext4`);
  });

  it('migrates an unlimited home into a limited one, keeping its files', async () => {
    const bob = disks.agentId('bob');
    // A home made before disk limits: a plain volume, written by a run without diskMb.
    await runScript(bob, 'mkdir -p work && echo old > work/memo && ln -s work/memo link');
    expect(await runDisk(bob, 48, `cat link; ls -l work/memo | cut -c1-10; ${homeSizeMb}`)).toMatch(
      /^old\n-rw-r--r--\n(4\d)\n$/,
    );
    const volume = await docker.getVolume(HOME_PREFIX + bob).inspect();
    expect(volume.Options).toMatchObject({ type: 'none', o: 'bind' });
  });

  it('refuses to migrate a plain home over an image that holds another one', async () => {
    const erin = disks.agentId('erin');
    await runDisk(erin, 32, 'echo in-image > memo');
    // `docker volume rm` leaves the image; a run without a limit then makes a plain volume.
    await docker.getVolume(HOME_PREFIX + erin).remove();
    await runScript(erin, 'echo in-plain-volume > memo');
    const run = disks.sandbox.run(
      disks.request({ agentId: erin, argv: ['cat', 'memo'], limits: limits(32) }),
      recordOutput().hooks,
    );
    await expect(run).rejects.toSatisfy((error) => isSandboxError(error, 'DISK_SETUP_FAILED'));
    expect(await runScript(erin, 'cat memo')).toBe('in-plain-volume\n');
    // The operator's choice: keep the plain volume, drop the image.
    await exec('umount', [`${disks.disksDir}/${HOME_PREFIX}${erin}`]);
  });

  it('binds the image again in place of an empty plain volume of its name', async () => {
    const frank = disks.agentId('frank');
    await runDisk(frank, 32, 'echo in-image > memo');
    // What an engine restart in the middle of the volume's create leaves: a plain volume, empty
    // or with the empty `vault/` skeleton a run laid out in it.
    await docker.getVolume(HOME_PREFIX + frank).remove();
    await docker.createVolume({ Name: HOME_PREFIX + frank });
    await runScript(frank, 'mkdir -p vault/shared');
    expect(await runDisk(frank, 32, 'cat memo')).toBe('in-image\n');
    const volume = await docker.getVolume(HOME_PREFIX + frank).inspect();
    expect(volume.Options).toMatchObject({ type: 'none', o: 'bind' });
  });

  it('mounts the image again after a reboot, and refuses writes while it is not mounted', async () => {
    const carol = disks.agentId('carol');
    await runDisk(carol, 32, 'echo before-reboot > memo');
    const mountPoint = `${disks.disksDir}/${HOME_PREFIX}${carol}`;
    // What a reboot leaves: the image and the volume, nothing mounted.
    await exec('umount', [mountPoint]);
    expect(await mountsUnder(mountPoint)).toEqual([]);
    await expect(writeFile(`${mountPoint}/stray`, 'x')).rejects.toMatchObject({ code: 'EPERM' });
    // A new worker process (a new sandbox) mounts it before the step starts.
    const restarted = disks.newSandbox();
    const output = recordOutput();
    await restarted.run(
      disks.request({ agentId: carol, argv: ['cat', 'memo'], limits: limits(32) }),
      output.hooks,
    );
    expect(output.text('stdout')).toBe('before-reboot\n');
  });

  it('deletes a limited home with its image and mount', async () => {
    const dave = disks.agentId('dave');
    await runDisk(dave, 32, 'echo kept > memo');
    const image = `${disks.disksDir}/${HOME_PREFIX}${dave}.ext4`;
    await stat(image);
    expect(await disks.sandbox.removeAgentHome(dave)).toBe(true);
    await expect(stat(image)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await mountsUnder(`${disks.disksDir}/${HOME_PREFIX}${dave}`)).toEqual([]);
    expect(await runDisk(dave, 32, 'test -e memo && echo kept || echo fresh')).toBe('fresh\n');
  });

  it('deletes a limited home whose mount a host process still holds', async () => {
    const gina = disks.agentId('gina');
    await runDisk(gina, 32, 'echo kept > memo');
    const mountPoint = `${disks.disksDir}/${HOME_PREFIX}${gina}`;
    // What a removed container's last process, still exiting, does to the mount: keeps it busy.
    const holder = spawn('sleep', ['600'], { cwd: mountPoint, stdio: 'ignore' });
    try {
      await expect(exec('umount', [mountPoint])).rejects.toMatchObject({ stderr: /target is busy/ });
      expect(await disks.sandbox.removeAgentHome(gina)).toBe(true);
      await expect(stat(`${mountPoint}.ext4`)).rejects.toMatchObject({ code: 'ENOENT' });
      expect(await mountsUnder(mountPoint)).toEqual([]);
      expect(await runDisk(gina, 32, 'test -e memo && echo kept || echo fresh')).toBe('fresh\n');
    } finally {
      holder.kill('SIGKILL');
      await once(holder, 'exit');
    }
  });
});
