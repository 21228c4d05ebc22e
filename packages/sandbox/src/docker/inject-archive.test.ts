import { extract, type Header } from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { buildInjectArchive } from './inject-archive.js';

async function entries(
  archive: Buffer,
): Promise<(Pick<Header, 'name' | 'type' | 'mode' | 'uid' | 'gid'> & { body: string })[]> {
  const result = [];
  const reader = extract();
  reader.end(archive);
  for await (const entry of reader) {
    const chunks: Buffer[] = [];
    for await (const chunk of entry) chunks.push(chunk as Buffer);
    const { name, type, mode, uid, gid } = entry.header;
    result.push({ name, type, mode, uid, gid, body: Buffer.concat(chunks).toString() });
  }
  return result;
}

const agent = { uid: 1000, gid: 1000 };

describe('buildInjectArchive', () => {
  it('builds nothing when there is nothing to write', async () => {
    expect(await buildInjectArchive({ files: [], owner: agent, prepareVault: false })).toBeUndefined();
  });

  it('prepares only vault/ when the shared vault is mounted read-only', async () => {
    const archive = await buildInjectArchive({ files: [], owner: agent, prepareVault: 'home' });
    expect(await entries(archive as Buffer)).toEqual([
      { name: 'home/agent/vault/', type: 'directory', mode: 0o755, uid: 1000, gid: 1000, body: '' },
    ]);
  });

  it('writes files under home/agent with every parent directory owned by the agent', async () => {
    const archive = await buildInjectArchive({
      files: [
        { path: 'a/b/c.txt', content: 'hi', encoding: 'utf8' },
        { path: 'a/d.bin', content: Buffer.from([1, 2]).toString('base64'), encoding: 'base64', mode: 0o600 },
      ],
      owner: agent,
      prepareVault: 'shared',
    });
    expect(await entries(archive as Buffer)).toEqual([
      { name: 'home/agent/vault/', type: 'directory', mode: 0o755, uid: 1000, gid: 1000, body: '' },
      { name: 'home/agent/vault/shared/', type: 'directory', mode: 0o755, uid: 1000, gid: 1000, body: '' },
      { name: 'home/agent/a/', type: 'directory', mode: 0o755, uid: 1000, gid: 1000, body: '' },
      { name: 'home/agent/a/b/', type: 'directory', mode: 0o755, uid: 1000, gid: 1000, body: '' },
      { name: 'home/agent/a/b/c.txt', type: 'file', mode: 0o644, uid: 1000, gid: 1000, body: 'hi' },
      { name: 'home/agent/a/d.bin', type: 'file', mode: 0o600, uid: 1000, gid: 1000, body: '\u0001\u0002' },
    ]);
  });

  it('writes the input read-only for the agent in a root-owned directory', async () => {
    const archive = await buildInjectArchive({
      files: [],
      input: 'prompt',
      owner: agent,
      prepareVault: false,
    });
    expect(await entries(archive as Buffer)).toEqual([
      { name: 'sandfleet/', type: 'directory', mode: 0o755, uid: 0, gid: 0, body: '' },
      { name: 'sandfleet/input', type: 'file', mode: 0o444, uid: 1000, gid: 1000, body: 'prompt' },
    ]);
  });

  it('keeps long and non-ASCII paths intact', async () => {
    const path = `${'dir/'.repeat(60)}näme.txt`;
    const archive = await buildInjectArchive({
      files: [{ path, content: 'x', encoding: 'utf8' }],
      owner: agent,
      prepareVault: false,
    });
    const names = (await entries(archive as Buffer)).map((entry) => entry.name);
    expect(names.at(-1)).toBe(`home/agent/${path}`);
  });
});
