import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, statfs } from 'node:fs/promises';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'vitest';
import type { DockerSandboxOptions, Sandbox } from '../src/index.js';
import { docker, TestBed } from './support.js';

const exec = promisify(execFile);

/** Parent of every test's own disks filesystem. */
const TEST_DISKS_ROOT = '/var/lib/sandfleet-test-disks';

/** Where the Docker engine keeps layers and volumes (read from the engine, not assumed). */
export async function dockerDataRoot(): Promise<string> {
  const info = (await docker.info()) as { DockerRootDir: string };
  return info.DockerRootDir;
}

/** Free bytes of the filesystem holding `path`, as `df` counts them for root. */
export async function freeBytes(path: string): Promise<number> {
  const stats = await statfs(path);
  return stats.bfree * stats.bsize;
}

/** Mount points at or under `dir`, from the kernel's table. */
export async function mountsUnder(dir: string): Promise<string[]> {
  const table = await readFile('/proc/self/mountinfo', 'utf8');
  return table
    .split('\n')
    .map((line) => line.split(' ')[4] ?? '')
    .filter((point) => point === dir || point.startsWith(`${dir}/`));
}

/** Loop devices backed by a file under `dir`. */
export async function loopDevicesUnder(dir: string): Promise<string[]> {
  const { stdout } = await exec('losetup', ['--list', '--noheadings', '--output', 'NAME,BACK-FILE']);
  return stdout
    .split('\n')
    .filter((line) => line.includes(`${dir}/`))
    .map((line) => line.trim());
}

/**
 * A {@link TestBed} whose sandbox keeps size-limited homes on a filesystem of the test's own (a
 * 2 GiB sparse ext4 image mounted under /var/lib), so statfs of it shows exactly what the homes
 * take, which the shared host disk, written by other work at tens of MiB/s, cannot. `cleanUp`
 * removes the test's homes through the sandbox, releases the shared vault's image, asserts that no
 * mount or loop device of the test's homes is left, and unmounts and deletes that filesystem.
 */
export class DiskTestBed extends TestBed {
  /** Size of the test's shared vault filesystem, MiB. */
  static readonly SHARED_VAULT_MB = 32;

  readonly disksDir: string;
  private readonly homes: string[] = [];

  private constructor(disksDir: string) {
    super({ disksDir, sharedVaultDiskMb: DiskTestBed.SHARED_VAULT_MB });
    this.disksDir = disksDir;
  }

  static async create(): Promise<DiskTestBed> {
    const fs = `${TEST_DISKS_ROOT}/${randomBytes(4).toString('hex')}`;
    await mkdir(fs, { recursive: true });
    await exec('truncate', ['-s', '2G', `${fs}.ext4`]);
    await exec('mkfs.ext4', ['-q', '-F', '-m', '0', `${fs}.ext4`]);
    await exec('mount', ['-o', 'loop', `${fs}.ext4`, fs]);
    return new DiskTestBed(`${fs}/disks`);
  }

  /** Another sandbox on the same disks (a restarted worker, say). */
  override newSandbox(options: DockerSandboxOptions = {}): Sandbox {
    return super.newSandbox({
      disksDir: this.disksDir,
      sharedVaultDiskMb: DiskTestBed.SHARED_VAULT_MB,
      ...options,
    });
  }

  override agentId(name = 'agent'): string {
    const id = super.agentId(name);
    if (!this.homes.includes(id)) this.homes.push(id);
    return id;
  }

  override async cleanUp(): Promise<void> {
    const sandbox = this.newSandbox();
    for (const agentId of this.homes) await sandbox.removeAgentHome(agentId);
    const homesLeft = (await mountsUnder(this.disksDir)).filter(
      (point) => !point.endsWith(this.sharedVaultVolume),
    );
    await super.cleanUp();
    // The shared vault has no removal API (it is the team's); its volume is gone now: release the image.
    for (const point of await mountsUnder(this.disksDir)) await exec('umount', [point]);
    const fs = dirname(this.disksDir);
    // Busy until every loop device of an image inside it is detached.
    await unmountWhenFree(fs);
    const loopsLeft = await loopDevicesUnder(fs);
    await rm(`${fs}.ext4`, { force: true });
    await rm(fs, { recursive: true, force: true });
    expect(homesLeft).toEqual([]);
    expect(loopsLeft).toEqual([]);
  }
}

/** Unmounts `path`, waiting for loop devices of the images inside it to be detached (autoclear runs after their last close). */
async function unmountWhenFree(path: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await exec('umount', [path]);
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
