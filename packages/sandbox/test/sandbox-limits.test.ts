import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isSandboxError } from '../src/index.js';
import { DiskTestBed, dockerDataRoot, freeBytes } from './disk-test-bed.js';
import { docker, firstOutput, recordOutput, TestBed } from './support.js';

let bed: TestBed;
beforeEach(() => {
  bed = new TestBed();
});
afterEach(async () => {
  await bed.cleanUp();
});

describe('limits and stopping', () => {
  it('kills a container that runs past its timeout, with stopReason timeout', async () => {
    const started = Date.now();
    const result = await bed.sandbox.run(
      bed.request({ argv: ['sleep', '60'], limits: { timeoutMs: 1000, memoryMb: 64, cpus: 1, pids: 64 } }),
      recordOutput().hooks,
    );
    expect(result.stopReason).toBe('timeout');
    expect(result.exitCode).toBe(137);
    expect(Date.now() - started).toBeLessThan(6000);
  });

  it('stops a container when the signal aborts with cancel, well within the grace', async () => {
    const controller = new AbortController();
    const { hooks, seen } = firstOutput();
    const run = bed.sandbox.run(
      bed.request({ argv: ['sh', '-c', 'echo up; exec sleep 60'], stopGraceMs: 5000 }),
      {
        ...hooks,
        signal: controller.signal,
      },
    );
    await seen;
    const abortedAt = Date.now();
    controller.abort('cancel');
    const result = await run;
    expect(result.stopReason).toBe('cancel');
    // SIGTERM reached the command: it ended by that signal, not by SIGKILL after the grace.
    expect(result.exitCode).toBe(143);
    expect(Date.now() - abortedAt).toBeLessThan(5000);
  });

  it('sends SIGKILL after the grace when the command ignores SIGTERM', async () => {
    const controller = new AbortController();
    const { hooks, seen } = firstOutput();
    const run = bed.sandbox.run(
      bed.request({
        argv: ['sh', '-c', 'trap "" TERM; echo up; while true; do sleep 1; done'],
        stopGraceMs: 1000,
      }),
      { ...hooks, signal: controller.signal },
    );
    await seen;
    const abortedAt = Date.now();
    controller.abort('cancel');
    const result = await run;
    const elapsed = Date.now() - abortedAt;
    expect(result.stopReason).toBe('cancel');
    expect(result.exitCode).toBe(137);
    expect(elapsed).toBeGreaterThanOrEqual(900);
    expect(elapsed).toBeLessThan(6000);
  });

  it('stops running containers with stopReason shutdown when the sandbox closes', async () => {
    const { hooks, seen } = firstOutput();
    const run = bed.sandbox.run(bed.request({ argv: ['sh', '-c', 'echo up; exec sleep 60'] }), hooks);
    await seen;
    await bed.sandbox.close();
    const result = await run;
    expect(result.stopReason).toBe('shutdown');
  });

  it('rejects with ABORTED and creates nothing when the signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort('shutdown');
    const run = bed.sandbox.run(bed.request(), { ...recordOutput().hooks, signal: controller.signal });
    await expect(run).rejects.toSatisfy((error) => isSandboxError(error, 'ABORTED') && error.retryable);
    expect(await bed.containersCreated()).toBe(0);
  });

  it('reports oomKilled when the command exceeds the memory limit', async () => {
    const result = await bed.sandbox.run(
      bed.request({
        argv: ['dd', 'if=/dev/zero', 'of=/dev/null', 'bs=200M', 'count=1'],
        limits: { timeoutMs: 30_000, memoryMb: 32, cpus: 1, pids: 64 },
      }),
      recordOutput().hooks,
    );
    expect(result.oomKilled).toBe(true);
    expect(result.exitCode).toBe(137);
    expect(result.stopReason).toBeUndefined();
  });

  it('contains a fork bomb under the pids limit and still ends the container', async () => {
    const started = Date.now();
    const output = recordOutput();
    const result = await bed.sandbox.run(
      bed.request({
        argv: ['sh', '-c', 'bomb() { bomb | bomb & }; bomb; sleep 30'],
        limits: { timeoutMs: 3000, memoryMb: 64, cpus: 0.5, pids: 32 },
      }),
      output.hooks,
    );
    expect(result.stopReason === 'timeout' || result.exitCode !== null).toBe(true);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(output.text('stderr')).toMatch(/can't fork|Resource temporarily unavailable/);
  });
});

describe('disk limits', () => {
  const MIB = 1024 * 1024;
  /** What the hostile step tries to write, over five places. */
  const ATTEMPTED_MB = 3000;
  let disks: DiskTestBed;
  beforeEach(async () => {
    disks = await DiskTestBed.create();
  });
  afterEach(async () => {
    await disks.cleanUp();
  });

  it('gives a hostile step ENOSPC or EROFS everywhere it writes, and the host disk barely moves', async () => {
    const diskMb = 64;
    const limits = { timeoutMs: 60_000, memoryMb: 256, cpus: 1, pids: 64, diskMb };
    const agentId = disks.agentId();
    // A first step makes the home and the vault (sparse images: their metadata only), so what is
    // measured next is what the hostile step itself managed to write.
    await disks.sandbox.run(disks.request({ agentId, limits }), recordOutput().hooks);
    const root = await dockerDataRoot();
    const [rootBefore, disksBefore] = [await freeBytes(root), await freeBytes(disks.disksDir)];
    const containerIds: string[] = [];
    // 200 MiB at each place a step can write, then at places of the root filesystem.
    const script = [
      'for d in /tmp /var/tmp /home/agent /run /sandfleet; do',
      `  dd if=/dev/zero of=$d/fill bs=1M count=${ATTEMPTED_MB / 5} 2>&1 | grep -o "No space left on device\\|Permission denied" | head -1 | sed "s|^|$d: |"`,
      'done',
      'for d in /opt /var/lib /etc /usr/local /; do mkdir -p $d/fill 2>&1 | grep -o "Read-only file system" | head -1 | sed "s|^|$d: |"; done',
      'df -m /tmp /var/tmp /home/agent | tail -n +2 | while read fs size rest; do echo "size $size"; done',
    ].join('\n');
    const output = recordOutput({ onStarted: ({ containerId }) => containerIds.push(containerId) });
    const result = await disks.sandbox.run(
      disks.request({ agentId, argv: ['sh', '-c', script], input: 'hostile', limits }),
      output.hooks,
    );
    await result.removed;
    const [rootAfter, disksAfter] = [await freeBytes(root), await freeBytes(disks.disksDir)];
    const lines = output.text('stdout').trim().split('\n');
    expect(result.oomKilled).toBe(false);
    expect(lines.slice(0, 10)).toEqual([
      '/tmp: No space left on device',
      '/var/tmp: No space left on device',
      '/home/agent: No space left on device',
      '/run: Permission denied',
      '/sandfleet: Permission denied',
      '/opt: Read-only file system',
      '/var/lib: Read-only file system',
      '/etc: Read-only file system',
      '/usr/local: Read-only file system',
      '/: Read-only file system',
    ]);
    // df inside shows the limit, not the host's disk (ext4 keeps a few MiB of its size for itself).
    const sizes = lines.slice(10).map((line) => Number(line.replace('size ', '')));
    expect(sizes).toHaveLength(3);
    for (const size of sizes) expect(size).toBeGreaterThan(diskMb * 0.7);
    for (const size of sizes) expect(size).toBeLessThanOrEqual(diskMb);
    // 3000 MiB were attempted. The homes' filesystem lost less than the limit; the engine's data root
    // (shared with other work that moves it by tens of MiB a second) far less than was attempted.
    expect(disksBefore - disksAfter).toBeLessThan(diskMb * MIB);
    expect(disksBefore - disksAfter).toBeGreaterThan(diskMb * 0.7 * MIB);
    // Without the limits 1800 MiB of it would land there; the rest is other work on this host.
    expect(rootBefore - rootAfter).toBeLessThan(ATTEMPTED_MB * MIB * 0.3);
    // The anonymous volume of /sandfleet went with the container.
    const info = await docker
      .getContainer(containerIds[0] ?? '')
      .inspect()
      .catch(() => undefined);
    expect(info).toBeUndefined();
  });

  it("caps the team's shared vault at its own size, whatever the step's limit", async () => {
    const limits = { timeoutMs: 60_000, memoryMb: 64, cpus: 1, pids: 64, diskMb: 256 };
    const agentId = disks.agentId();
    await disks.sandbox.run(disks.request({ agentId, limits }), recordOutput().hooks);
    const before = await freeBytes(disks.disksDir);
    const output = recordOutput();
    const script = 'dd if=/dev/zero of=vault/shared/fill bs=1M count=200; df -m vault/shared | tail -1';
    const sharedVault = { team: 'shared', writable: true };
    await disks.sandbox.run(
      disks.request({ agentId, argv: ['sh', '-c', script], limits, sharedVault }),
      output.hooks,
    );
    expect(output.text('stderr')).toContain('No space left on device');
    const size = Number(output.text('stdout').trim().split(/\s+/)[1]);
    expect(size).toBeLessThanOrEqual(DiskTestBed.SHARED_VAULT_MB);
    expect(before - (await freeBytes(disks.disksDir))).toBeLessThan(DiskTestBed.SHARED_VAULT_MB * MIB);
  });

  it('removes the anonymous /sandfleet volume with the container', async () => {
    const volumes: string[] = [];
    const run = disks.sandbox.run(
      disks.request({
        argv: ['cat', '/sandfleet/input'],
        input: 'kept in /sandfleet',
        limits: { timeoutMs: 20_000, memoryMb: 64, cpus: 1, pids: 64, diskMb: 32 },
      }),
      {
        ...recordOutput().hooks,
        onStarted: ({ containerId }) => {
          void docker
            .getContainer(containerId)
            .inspect()
            .then((info) => {
              for (const mount of info.Mounts)
                if (mount.Destination === '/sandfleet' && mount.Name) volumes.push(mount.Name);
            });
        },
      },
    );
    const result = await run;
    expect(result.exitCode).toBe(0);
    await result.removed;
    expect(volumes).toHaveLength(1);
    await expect(docker.getVolume(volumes[0] ?? '').inspect()).rejects.toMatchObject({ statusCode: 404 });
  });

  it('runs with a writable root filesystem and no tmpfs when no disk limit is given', async () => {
    const output = recordOutput();
    const result = await bed.sandbox.run(
      bed.request({ argv: ['sh', '-c', 'touch /tmp/x && grep -c " /tmp tmpfs" /proc/mounts || true'] }),
      output.hooks,
    );
    expect(result.exitCode).toBe(0);
    expect(output.text('stdout')).toBe('0\n');
  });
});
