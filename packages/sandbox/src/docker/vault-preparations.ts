import type Docker from 'dockerode';
import type { ImageOwner } from './image-owner.js';

/** Enough for every agent of a fleet; past it the memory starts over (at the cost of one archive per agent). */
const MAX_REMEMBERED = 10_000;

/** Whether a run must (re)write the vault directories, and how to record that it did. */
export interface VaultCheck {
  needed: boolean;
  done(): void;
}

/**
 * Label with a random value given to volumes Sandfleet creates, so a volume deleted and re-created
 * behind our back is told apart from the old one (local volumes have no stable creation id:
 * their `CreatedAt` is the mtime of their root directory).
 */
export const VOLUME_INSTANCE_LABEL = 'sandfleet.volume-instance';

/**
 * Remembers which home / shared-vault volume pairs already have `vault/` and `vault/shared/`
 * owned by the agent user, so the archive upload (tens of ms: the engine mounts the container's
 * filesystem for it) is skipped for runs that inject nothing else. Keyed by the volumes'
 * {@link VOLUME_INSTANCE_LABEL} (by name for volumes created outside Sandfleet).
 */
export class VaultPreparations {
  private readonly prepared = new Set<string>();

  constructor(private readonly docker: Docker) {}

  /**
   * Call after the container (and so its volumes) exists. A run with the shared vault read-only
   * prepares only `vault/`, so it counts apart from a writable one.
   */
  async check(
    homeVolume: string,
    sharedVolume: string,
    owner: ImageOwner,
    sharedWritable: boolean,
  ): Promise<VaultCheck> {
    const found = await this.key(homeVolume, sharedVolume, owner);
    const key = found === undefined ? undefined : `${found}|${sharedWritable ? 'rw' : 'ro'}`;
    if (key === undefined) return { needed: true, done: () => undefined };
    return {
      needed: !this.prepared.has(key),
      done: () => {
        if (this.prepared.size >= MAX_REMEMBERED) this.prepared.clear();
        this.prepared.add(key);
      },
    };
  }

  private async key(
    homeVolume: string,
    sharedVolume: string,
    owner: ImageOwner,
  ): Promise<string | undefined> {
    try {
      const volumes = await Promise.all(
        [homeVolume, sharedVolume].map((name) => this.docker.getVolume(name).inspect()),
      );
      const instances = volumes.map(
        (volume) => volume.Labels?.[VOLUME_INSTANCE_LABEL] ?? `name:${volume.Name}`,
      );
      return [owner.uid, owner.gid, ...instances].join('|');
    } catch {
      return undefined;
    }
  }
}
