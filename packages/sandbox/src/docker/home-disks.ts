import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type { ErrorContext } from '@sandfleet/contracts';
import type Docker from 'dockerode';
import type { LimitFunction } from 'p-limit';
import { SandboxError } from '../errors.js';
import { dockerStatus, toSandboxError } from './docker-errors.js';
import { ENSURE_DISK_SCRIPT, REMOVE_DISK_SCRIPT } from './home-disk-scripts.js';
import type { ImageOwner } from './image-owner.js';
import { VOLUME_INSTANCE_LABEL } from './vault-preparations.js';

const exec = promisify(execFile);

/** Label of a size-limited volume: the host path of its ext4 image. */
export const DISK_IMAGE_LABEL = 'sandfleet.disk-image';

/** A volume to back with a size-limited filesystem. */
export interface DiskVolume {
  name: string;
  /** Labels of the Docker volume when it is created. */
  labels: Record<string, string>;
}

/**
 * Per-agent homes (and the shared vault) as ext4 images loop-mounted on the Docker host under
 * `dir`, each handed to the engine as a `local` volume bound to its mount point. Docker's local
 * driver cannot loop-mount an image itself (`o=loop` is a mount(8) feature, not a kernel option),
 * and overlay2 on ext4 has no per-container quota, so the worker does it. Needs root and mount
 * rights in the engine's mount namespace.
 */
export class HomeDisks {
  constructor(
    private readonly docker: Docker,
    private readonly limit: LimitFunction,
    private readonly dir: string,
  ) {}

  /**
   * Makes `volume` a filesystem of at least `sizeMb` MiB, mounted and bound: creates it, mounts it
   * again after a reboot, grows it (never shrinks it), or migrates a plain local volume of that
   * name into it (then removes the plain volume). Idempotent; safe across processes on one host.
   */
  async ensure(volume: DiskVolume, sizeMb: number, owner: ImageOwner, context: ErrorContext): Promise<void> {
    const existing = await this.inspect(volume.name, context);
    const labelled = existing?.Labels?.[DISK_IMAGE_LABEL];
    // An operator's volume (NFS, another driver, bind options): its size is the operator's to limit.
    if (existing && labelled === undefined && !isPlainLocal(existing)) return;
    // A volume made by a worker with another directory keeps its own image.
    const image = labelled ?? join(this.dir, `${volume.name}.ext4`);
    const mountPoint = (labelled && existing?.Options?.device) || join(this.dir, volume.name);
    const from = existing && labelled === undefined ? existing.Mountpoint : '';
    // The common case, without the 50-200 ms of a flock'd script: mounted and large enough.
    if (labelled !== undefined && (await isReady(image, mountPoint, sizeMb))) return;
    await mkdir(dirname(image), { recursive: true, mode: 0o700 });
    if (from !== '' && (await exists(image)) && (await holdsNoFiles(from))) {
      // A plain volume beside our image that holds no file (at most the empty `vault/` skeleton
      // a run lays out) holds nothing: the engine made it from a volume create its restart cut
      // short (seen under a daemon restart), or a container create did. The image is the home;
      // bind it in the plain volume's place.
      await this.removePlain(volume.name, context);
      await this.create(volume, image, mountPoint, context);
      return this.ensure(volume, sizeMb, owner, context);
    }
    if (from !== '' && (await exists(image))) {
      // Both hold data (an image left by `docker volume rm`, or a migration cut short after its
      // copy): which one is the home is for an operator to say, never for us to overwrite.
      throw new SandboxError(
        'DISK_SETUP_FAILED',
        `volume ${volume.name} is a plain volume but ${image} exists too: remove one of them`,
        { retryable: false, context },
      );
    }
    await runScript(
      ENSURE_DISK_SCRIPT,
      [image, mountPoint, String(sizeMb), `${owner.uid}:${owner.gid}`, from],
      context,
    );
    if (labelled !== undefined) return;
    if (existing) await this.removePlain(volume.name, context);
    await this.create(volume, image, mountPoint, context);
  }

  /**
   * Unmounts and deletes the image of a volume created by {@link ensure}, after the volume itself
   * was removed; does nothing for other volumes.
   */
  static async release(volume: Docker.VolumeInspectInfo, context: ErrorContext): Promise<void> {
    const image = volume.Labels?.[DISK_IMAGE_LABEL];
    const mountPoint = volume.Options?.device;
    if (image === undefined || mountPoint === undefined) return;
    await runScript(REMOVE_DISK_SCRIPT, [image, mountPoint], context);
  }

  private async inspect(name: string, context: ErrorContext): Promise<Docker.VolumeInspectInfo | undefined> {
    try {
      return await this.limit(() => this.docker.getVolume(name).inspect());
    } catch (error) {
      if (dockerStatus(error) === 404) return undefined;
      throw toSandboxError(error, 'DOCKER_UNAVAILABLE', `cannot inspect volume ${name}`, context);
    }
  }

  private async create(volume: DiskVolume, image: string, mountPoint: string, context: ErrorContext) {
    try {
      await this.limit(() =>
        this.docker.createVolume({
          Name: volume.name,
          Driver: 'local',
          DriverOpts: { type: 'none', o: 'bind', device: mountPoint },
          Labels: { ...volume.labels, [DISK_IMAGE_LABEL]: image, [VOLUME_INSTANCE_LABEL]: randomUUID() },
        }),
      );
    } catch (error) {
      throw toSandboxError(error, 'DISK_SETUP_FAILED', `cannot create volume ${volume.name}`, context);
    }
  }

  private async removePlain(name: string, context: ErrorContext): Promise<void> {
    try {
      await this.limit(() => this.docker.getVolume(name).remove());
    } catch (error) {
      const status = dockerStatus(error);
      if (status === 404) return;
      if (status === 409) {
        throw new SandboxError('VOLUME_IN_USE', `volume ${name} is in use: migrate it when it is not`, {
          cause: error,
          retryable: true,
          context,
        });
      }
      throw toSandboxError(error, 'DISK_SETUP_FAILED', `cannot remove volume ${name}`, context);
    }
  }
}

/** Whether the image is at least `sizeMb` and mounted at `mountPoint` (per the kernel's table). */
async function isReady(image: string, mountPoint: string, sizeMb: number): Promise<boolean> {
  try {
    const [info, table] = await Promise.all([stat(image), readFile('/proc/self/mountinfo', 'utf8')]);
    const mounted = table.split('\n').some((line) => line.split(' ')[4] === mountPoint);
    return mounted && info.size >= sizeMb * 1024 * 1024;
  } catch {
    return false;
  }
}

/** Entries past which a tree is taken to hold data without looking further. */
const EMPTY_TREE_MAX_ENTRIES = 1000;

/**
 * Whether the directory `path` holds nothing but (nested) empty directories; false when it
 * cannot be read or has more than {@link EMPTY_TREE_MAX_ENTRIES} entries. Stops at the first
 * file, so a home full of data is not walked.
 */
async function holdsNoFiles(path: string): Promise<boolean> {
  const pending = [path];
  let seen = 0;
  try {
    for (let dir = pending.pop(); dir !== undefined; dir = pending.pop()) {
      for (const entry of await readdir(dir, { withFileTypes: true })) {
        seen += 1;
        if (!entry.isDirectory() || seen > EMPTY_TREE_MAX_ENTRIES) return false;
        pending.push(join(dir, entry.name));
      }
    }
    return true;
  } catch {
    return false;
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** A `local` volume without options: its data is a directory in the engine's data root. */
function isPlainLocal(volume: Docker.VolumeInspectInfo): boolean {
  return volume.Driver === 'local' && Object.keys(volume.Options ?? {}).length === 0;
}

async function runScript(script: string, args: string[], context: ErrorContext): Promise<void> {
  const image = args[0] ?? '';
  try {
    await exec('flock', [`${image}.lock`, 'sh', '-c', script, 'sandfleet-disk', ...args], {
      timeout: 10 * 60_000,
    });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim() ?? '';
    throw new SandboxError('DISK_SETUP_FAILED', `cannot prepare disk ${image}: ${stderr || String(error)}`, {
      cause: error,
      // Mount rights, a full host disk or missing tools are not fixed by trying again at once.
      retryable: false,
      context,
    });
  }
}
