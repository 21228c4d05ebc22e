import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, statfs } from 'node:fs/promises';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TestFleet } from './support/test-fleet.js';

const exec = promisify(execFile);
const docker = new Docker({ socketPath: '/var/run/docker.sock' });
const MIB = 1024 * 1024;
const DISK_MB = 64;
const MAX_DISK_MB = 128;
/** What the hostile step tries to write, over five places: almost fifty times the limit. */
const ATTEMPTED_MB = 3000;

const freeBytes = async (path: string) => {
  const stats = await statfs(path);
  return stats.bfree * stats.bsize;
};

/**
 * A worker with disk limits, probed by hostile steps through the queue. Its homes live on a
 * filesystem of this test's own (a sparse ext4 image), so statfs of it shows exactly what the
 * homes took; the engine's data root is shared with other work on this host, which moves its free
 * space by tens of MiB a second, so there the test shows the writes did not land.
 */
describe('containment: a step cannot fill the disk', () => {
  const fs = `/var/lib/sandfleet-test-disks/${randomBytes(4).toString('hex')}`;
  const disksDir = `${fs}/disks`;
  let fleet: TestFleet;
  let dataRoot: string;

  beforeAll(async () => {
    await mkdir(fs, { recursive: true });
    await exec('truncate', ['-s', '2G', `${fs}.ext4`]);
    await exec('mkfs.ext4', ['-q', '-F', '-m', '0', `${fs}.ext4`]);
    await exec('mount', ['-o', 'loop', `${fs}.ext4`, fs]);
    const info = (await docker.info()) as { DockerRootDir: string };
    dataRoot = info.DockerRootDir;
    fleet = await TestFleet.create();
    await fleet.startWorker({
      SANDFLEET_WORKER_CONCURRENCY: '2',
      SANDFLEET_DEFAULT_MEMORY_MB: '256',
      SANDFLEET_DISKS_DIR: disksDir,
      SANDFLEET_DEFAULT_DISK_MB: String(DISK_MB),
      SANDFLEET_MAX_DISK_MB: String(MAX_DISK_MB),
    });
  });

  afterEach(async () => {
    expect(await fleet.leftovers()).toEqual([]);
  });

  afterAll(async () => {
    // Removes the agents' homes through the sandbox: their volumes, mounts and images.
    await fleet?.close();
    const table = await readFile('/proc/self/mountinfo', 'utf8');
    const homesLeft = table.split('\n').filter((line) => line.includes(`${disksDir}/`));
    const deadline = Date.now() + 10_000;
    // Busy until the loop devices of the images inside it are detached.
    for (;;) {
      try {
        await exec('umount', [fs]);
        break;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    await rm(`${fs}.ext4`, { force: true });
    await rm(fs, { recursive: true, force: true });
    expect(homesLeft).toEqual([]);
  });

  async function run(agentId: string, script: string, limits: Record<string, number> = {}) {
    const id = fleet.stepId();
    await fleet.queue.enqueue({ id, agentId, command: ['sh', '-c', script], limits });
    return fleet.terminal(id, 120_000);
  }

  it('gets ENOSPC in /tmp, /var/tmp and its home and EROFS elsewhere, and the disk keeps its space', async () => {
    const agent = fleet.agentId();
    // The agent's first step makes its home: what is measured next is the hostile step's doing.
    expect(await run(agent, 'true')).toMatchObject({ status: 'succeeded' });
    const [rootBefore, homesBefore] = [await freeBytes(dataRoot), await freeBytes(disksDir)];
    const script = [
      'for d in /tmp /var/tmp /home/agent /run /sandfleet; do',
      `  dd if=/dev/zero of=$d/fill bs=1M count=${ATTEMPTED_MB / 5} 2>&1 | grep -o "No space left on device\\|Permission denied\\|Read-only file system" | head -1 | sed "s|^|$d: |"`,
      'done',
      'for d in /opt /var/lib /etc /usr/local /; do mkdir -p $d/fill 2>&1 | grep -o "Read-only file system" | head -1 | sed "s|^|$d: |"; done',
      'df -m /tmp /home/agent | tail -n +2 | while read fs size rest; do echo "size $size"; done',
      // Stays up a moment, so the test can weigh its writable layer and volumes from the host.
      'echo filled >&2; sleep 4',
    ].join('\n');
    const id = fleet.stepId();
    await fleet.queue.enqueue({ id, agentId: agent, command: ['sh', '-c', script] });
    const filled = await fleet.until('the step to fill what it could', async () => {
      const events = await fleet.replay(id);
      return events.some((event) => event.type === 'output' && event.data.includes('filled'));
    });
    expect(filled).toBe(true);
    const [container] = await docker.listContainers({ filters: { label: [`sandfleet.step-id=${id}`] } });
    // `size` (SizeRw) is an engine query option the typings lack.
    const target = docker.getContainer(container?.Id ?? '');
    const inspect = target.inspect.bind(target) as (
      options: object,
    ) => Promise<Docker.ContainerInspectInfo & { SizeRw?: number }>;
    const layers = await inspect({ size: true });
    const runtimeDir = layers.Mounts.find((mount) => mount.Destination === '/sandfleet');
    const { stdout } = await exec('du', ['-sk', runtimeDir?.Source ?? '/nonexistent']);
    const row = await fleet.terminal(id, 120_000);
    const [rootAfter, homesAfter] = [await freeBytes(dataRoot), await freeBytes(disksDir)];
    expect(row).toMatchObject({ status: 'succeeded' });
    const lines = row.output
      .trim()
      .split('\n')
      .filter((line) => line !== 'filled');
    expect(lines.slice(0, 10)).toEqual([
      '/tmp: No space left on device',
      '/var/tmp: No space left on device',
      '/home/agent: No space left on device',
      '/run: Permission denied',
      expect.stringMatching(/^\/sandfleet: (Permission denied|Read-only file system)$/),
      '/opt: Read-only file system',
      '/var/lib: Read-only file system',
      '/etc: Read-only file system',
      '/usr/local: Read-only file system',
      '/: Read-only file system',
    ]);
    // df inside shows the limit, not the host's disk.
    const sizes = lines.slice(10).map((line) => Number(line.replace('size ', '')));
    expect(sizes).toHaveLength(2);
    for (const size of sizes) expect(size).toBeGreaterThan(DISK_MB * 0.7);
    for (const size of sizes) expect(size).toBeLessThanOrEqual(DISK_MB);
    expect(homesBefore - homesAfter).toBeLessThan(DISK_MB * MIB);
    expect(homesBefore - homesAfter).toBeGreaterThan(DISK_MB * 0.7 * MIB);
    // On the engine's disk: nothing in the writable layer, the /sandfleet volume as uploaded.
    expect(layers.SizeRw).toBe(0);
    expect(Number(stdout.split('\t')[0])).toBeLessThan(1024);
    // Without the limits 1800 MiB of it would land there; the rest is other work on this host.
    expect(rootBefore - rootAfter).toBeLessThan(ATTEMPTED_MB * MIB * 0.3);
  });

  it("caps a step's disk at the worker maximum and keeps the home across its steps", async () => {
    const agent = fleet.agentId();
    const df = "df -m /home/agent /tmp | tail -n +2 | awk '{print $2}'";
    const first = await run(agent, `echo kept > memo; ${df}`, { diskMb: 100_000 });
    expect(first).toMatchObject({ status: 'succeeded' });
    for (const size of first.output.trim().split('\n').map(Number)) {
      expect(size).toBeGreaterThan(MAX_DISK_MB * 0.7);
      expect(size).toBeLessThanOrEqual(MAX_DISK_MB);
    }
    expect(await run(agent, 'cat memo')).toMatchObject({ status: 'succeeded', output: 'kept\n' });
  });

  it('is OOM-killed, not the host, when its scratch tmpfs outgrow its memory', async () => {
    // tmpfs pages count against the memory limit: 2 × 64 MiB of scratch in 32 MiB of memory.
    const script = 'dd if=/dev/zero of=/tmp/a bs=1M count=64; dd if=/dev/zero of=/var/tmp/b bs=1M count=64';
    const row = await run(fleet.agentId(), script, { memoryMb: 32 });
    expect(row).toMatchObject({ status: 'failed', oomKilled: true, exitCode: 137 });
  });
});
