import { buffer } from 'node:stream/consumers';
import { extract, pack } from 'tar-stream';

/** Part of an inject archive to extract at one mount point. */
export interface ArchivePart {
  /** Absolute path of the mount point, e.g. `/home/agent`. */
  path: string;
  archive: Buffer;
}

/**
 * Splits an archive meant for `/` into one archive per mount point, with names relative to it.
 * On a read-only root filesystem the engine extracts an archive only at a path inside a volume
 * (`container rootfs is marked read-only` otherwise), so the home's files and the runtime
 * directory's go up separately. The entry of a mount point itself becomes `./` (its owner and
 * mode still apply); an entry under none of them is refused, as the engine would refuse it.
 */
export async function splitArchiveByMount(
  archive: Buffer,
  mountPoints: readonly string[],
): Promise<ArchivePart[]> {
  const prefixes = mountPoints.map((path) => ({ path, prefix: `${path.replace(/^\/+|\/+$/g, '')}/` }));
  const packs = new Map<string, ReturnType<typeof pack>>();
  const collected = new Map<string, Promise<Buffer>>();
  const target = (path: string) => {
    let tar = packs.get(path);
    if (!tar) {
      tar = pack();
      packs.set(path, tar);
      collected.set(path, buffer(tar));
    }
    return tar;
  };

  const reader = extract();
  reader.end(archive);
  for await (const entry of reader) {
    const { name } = entry.header;
    const owner = prefixes.find(({ prefix }) => name === prefix || name.startsWith(prefix));
    if (!owner) throw new Error(`archive entry ${name} lies outside every writable mount`);
    const body = await buffer(entry);
    target(owner.path).entry({ ...entry.header, name: name.slice(owner.prefix.length) || './' }, body);
  }

  const parts: ArchivePart[] = [];
  for (const [path, tar] of packs) {
    tar.finalize();
    parts.push({ path, archive: await (collected.get(path) as Promise<Buffer>) });
  }
  return parts;
}
