import { STEP_ENV_FILE } from '@sandfleet/contracts';
import { pack } from 'tar-stream';
import { ancestors } from '../run-request.js';
import type { SandboxFile, SandboxRuntimeFile } from '../sandbox.js';
import type { ImageOwner } from './image-owner.js';

/** What to write into a created container before it starts. */
export interface InjectArchiveInput {
  files: readonly SandboxFile[];
  input?: string;
  runtimeFiles?: readonly SandboxRuntimeFile[];
  /**
   * An agent-runtime image: private runtime files are written (root-only) and so is `stepEnv`, as
   * `/sandfleet/step-env.json`. Otherwise private runtime files are left out.
   */
  agentRuntime?: { stepEnv: Record<string, string> };
  owner: ImageOwner;
  /**
   * Also write `vault/` (`home`), or `vault/` and `vault/shared/` (`shared`), owned by `owner`.
   * The engine creates the shared vault's mount point (and a fresh shared volume's root) owned by
   * root, which a non-root agent could not write to. A read-only shared vault takes no entry.
   */
  prepareVault: false | 'home' | 'shared';
}

/** The archive is extracted at `/`; these are its path prefixes. */
const HOME_PREFIX = 'home/agent/';
const INPUT_DIR = 'sandfleet/';
const INPUT_ENTRY = 'sandfleet/input';
const DIR_MODE = 0o755;
const FILE_MODE = 0o644;
const INPUT_MODE = 0o444;
const PRIVATE_MODE = 0o400;
const VAULT_DIRS = { home: ['vault'], shared: ['vault', 'vault/shared'] } as const;

/**
 * Builds the tar archive of injected files (under `/home/agent`) and input (`/sandfleet/input`),
 * or undefined when there is nothing to write. Every parent directory is an explicit entry owned
 * by the agent: the engine would otherwise create missing ones owned by root, and an explicit
 * directory entry replaces a symlink the agent may have left at that path in its home.
 */
export async function buildInjectArchive(input: InjectArchiveInput): Promise<Buffer | undefined> {
  const { files, owner, agentRuntime } = input;
  const runtimeFiles = (input.runtimeFiles ?? []).filter((file) => agentRuntime || !file.private);
  if (agentRuntime) {
    runtimeFiles.push({ name: STEP_ENV_FILE, content: JSON.stringify(agentRuntime.stepEnv), private: true });
  }
  if (files.length === 0 && input.input === undefined && runtimeFiles.length === 0 && !input.prepareVault) {
    return undefined;
  }

  const tar = pack();
  const collected = collect(tar as AsyncIterable<Buffer>);
  const mtime = new Date();
  const ownedBy = { uid: owner.uid, gid: owner.gid, mtime };

  const dirs = new Set<string>(input.prepareVault ? VAULT_DIRS[input.prepareVault] : []);
  for (const file of files) for (const dir of ancestors(file.path)) dirs.add(dir);
  for (const dir of dirs) {
    tar.entry({ ...ownedBy, name: `${HOME_PREFIX}${dir}/`, type: 'directory', mode: DIR_MODE });
  }
  for (const file of files) {
    const content = Buffer.from(file.content, file.encoding);
    tar.entry(
      { ...ownedBy, name: `${HOME_PREFIX}${file.path}`, type: 'file', mode: file.mode ?? FILE_MODE },
      content,
    );
  }
  if (input.input !== undefined || runtimeFiles.length > 0) {
    tar.entry({ name: INPUT_DIR, type: 'directory', mode: DIR_MODE, uid: 0, gid: 0, mtime });
  }
  if (input.input !== undefined) {
    tar.entry(
      { ...ownedBy, name: INPUT_ENTRY, type: 'file', mode: INPUT_MODE },
      Buffer.from(input.input, 'utf8'),
    );
  }
  for (const file of runtimeFiles) {
    // Root-only: root without CAP_DAC_OVERRIDE is the runtime alone, the step is uid 1000.
    const access = file.private ? { uid: 0, gid: 0, mode: PRIVATE_MODE } : { ...ownedBy, mode: INPUT_MODE };
    tar.entry(
      { mtime, ...access, name: `${INPUT_DIR}${file.name}`, type: 'file' },
      Buffer.from(file.content, 'utf8'),
    );
  }
  tar.finalize();
  return collected;
}

async function collect(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks);
}
