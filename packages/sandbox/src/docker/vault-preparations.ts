import type Docker from 'dockerode';
import type { ImageOwner } from './image-owner.js';

/** Enough for every agent of a fleet; past it the memory starts over (at the cost of one archive per agent). */
const MAX_REMEMBERED = 10_000;

/** Whether a run must (re)write the vault directories, and how to record that it did. */
export interface VaultCheck {
  needed: boolean;
  done(): void;
}

/** The two volumes of a run: names, and the instance labels its create gave them (when it made them). */
export interface VaultVolumes {
  home: string;
  shared: string;
  /** The {@link VOLUME_INSTANCE_LABEL} values in the run's create body. */
  instances: { home: string; shared: string };
  /** The image carries the vault skeleton (`HOME_SKELETON_LABEL`): volumes it fills need nothing. */
  skeleton: boolean;
}

/**
 * Label with a random value given to volumes Sandfleet creates, so a volume deleted and re-created
 * behind our back is told apart from the old one (local volumes have no stable creation id:
 * their `CreatedAt` is the mtime of their root directory). A container create that makes the
 * volume gives it the value in its create body, which tells a run that its own create made it.
 */
export const VOLUME_INSTANCE_LABEL = 'sandfleet.volume-instance';

/**
 * Remembers which home volumes already have `vault/`, and which shared vaults a writable run
 * already made their root, owned by the agent user, so the archive upload (tens of ms: the engine
 * mounts the container's filesystem for it) is skipped for runs that inject nothing else. A
 * volume the run's own create made from an image with the vault skeleton is ready as made: the
 * engine copied the image's directories, with their owner, into it. Keyed by the volumes'
 * {@link VOLUME_INSTANCE_LABEL} (by name for volumes created outside Sandfleet).
 */
export class VaultPreparations {
  private readonly prepared = new Set<string>();

  constructor(private readonly docker: Docker) {}

  /**
   * Call after the container (and so its volumes) exists. A run with the shared vault read-only
   * needs only `vault/` of its home, so it never asks for the shared vault's root.
   */
  async check(volumes: VaultVolumes, owner: ImageOwner, sharedWritable: boolean): Promise<VaultCheck> {
    const found = await this.instances(volumes);
    if (found === undefined) return { needed: true, done: () => undefined };
    const user = `${owner.uid}:${owner.gid}`;
    const wanted = [
      { key: `home|${user}|${found.home}`, madeHere: found.home === volumes.instances.home },
      ...(sharedWritable
        ? [{ key: `shared|${user}|${found.shared}`, madeHere: found.shared === volumes.instances.shared }]
        : []),
    ];
    for (const volume of wanted) if (volumes.skeleton && volume.madeHere) this.remember(volume.key);
    return {
      needed: wanted.some((volume) => !this.prepared.has(volume.key)),
      done: () => {
        for (const volume of wanted) this.remember(volume.key);
      },
    };
  }

  private remember(key: string): void {
    if (this.prepared.size >= MAX_REMEMBERED) this.prepared.clear();
    this.prepared.add(key);
  }

  private async instances(volumes: VaultVolumes): Promise<{ home: string; shared: string } | undefined> {
    try {
      const [home, shared] = await Promise.all(
        [volumes.home, volumes.shared].map((name) => this.docker.getVolume(name).inspect()),
      );
      const instance = (volume: Docker.VolumeInspectInfo) =>
        volume.Labels?.[VOLUME_INSTANCE_LABEL] ?? `name:${volume.Name}`;
      if (!home || !shared) return undefined;
      return { home: instance(home), shared: instance(shared) };
    } catch {
      return undefined;
    }
  }
}
