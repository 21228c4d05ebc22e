import { buffer } from 'node:stream/consumers';
import { extract, pack } from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { splitArchiveByMount } from './disk-archive-split.js';

async function archiveOf(
  entries: { name: string; body?: string; uid?: number; mode?: number }[],
): Promise<Buffer> {
  const tar = pack();
  const done = buffer(tar);
  for (const { name, body, uid = 1000, mode = 0o644 } of entries) {
    const type = name.endsWith('/') ? 'directory' : 'file';
    tar.entry({ name, type, uid, gid: uid, mode }, body ?? '');
  }
  tar.finalize();
  return done;
}

async function namesOf(archive: Buffer): Promise<string[]> {
  const names: string[] = [];
  const reader = extract();
  reader.end(archive);
  for await (const entry of reader) {
    names.push(`${entry.header.name} ${entry.header.uid} ${(await buffer(entry)).toString()}`.trim());
  }
  return names;
}

describe('splitArchiveByMount', () => {
  it('gives each mount point its entries, relative to it, with owners and content kept', async () => {
    const archive = await archiveOf([
      { name: 'home/agent/vault/' },
      { name: 'home/agent/notes/a.txt', body: 'hi' },
      { name: 'sandfleet/', uid: 0 },
      { name: 'sandfleet/input', body: 'prompt' },
    ]);
    const parts = await splitArchiveByMount(archive, ['/home/agent', '/sandfleet']);
    expect(parts.map((part) => part.path)).toEqual(['/home/agent', '/sandfleet']);
    expect(await namesOf(parts[0]?.archive as Buffer)).toEqual(['vault/ 1000', 'notes/a.txt 1000 hi']);
    expect(await namesOf(parts[1]?.archive as Buffer)).toEqual(['./ 0', 'input 1000 prompt']);
  });

  it('refuses an entry outside every mount point', async () => {
    const archive = await archiveOf([{ name: 'etc/passwd', body: 'x' }]);
    await expect(splitArchiveByMount(archive, ['/home/agent'])).rejects.toThrow(
      /outside every writable mount/,
    );
  });

  it('does not mistake a sibling with the same prefix for the mount point', async () => {
    const archive = await archiveOf([{ name: 'sandfleet-other/x', body: 'x' }]);
    await expect(splitArchiveByMount(archive, ['/sandfleet'])).rejects.toThrow(/outside/);
  });
});
