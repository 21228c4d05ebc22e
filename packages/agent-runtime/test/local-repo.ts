import { execFileSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { runAgentRuntime } from '../src/agent-runtime.js';
import type { SignalSource } from '../src/signal-relay.js';

const EVENT_TOKEN = 'local-event-token';
// biome-ignore lint/suspicious/noControlCharactersInRegex: event sequences are made of ESC and BEL.
const SEQUENCE = /\x1b\]sandfleet;([^;\x07]*);([A-Za-z0-9+/=]*)\x07/g;

export interface DecodedEvent {
  name: string;
  data: Record<string, unknown>;
}

export interface LocalRun {
  exitCode: number;
  /** stdout without the event sequences. */
  stdout: string;
  stderr: string;
  events: DecodedEvent[];
}

/** `git` on the host, with a fixed identity, returning trimmed stdout. */
export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=test', '-c', 'user.email=test@example.invalid', ...args], {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  }).trim();
}

/** A temp dir with a bare repository `repo.git` (branch main, one commit) and an agent home. */
export class LocalRepo {
  readonly root: string;
  readonly home: string;
  readonly bare: string;
  readonly url: string;

  private constructor(root: string) {
    this.root = root;
    this.home = join(root, 'home');
    this.bare = join(root, 'repo.git');
    this.url = `file://${this.bare}`;
  }

  static async create(): Promise<LocalRepo> {
    const repo = new LocalRepo(await mkdtemp(join(tmpdir(), 'sandfleet-runtime-')));
    await mkdir(repo.home);
    git(repo.root, 'init', '--quiet', '--bare', '--initial-branch=main', repo.bare);
    await repo.commitOnRemote('main', 'README.md', 'hello\n');
    return repo;
  }

  /** Commits `file` with `content` on `branch` of the remote (from a scratch clone). */
  async commitOnRemote(branch: string, file: string, content: string): Promise<string> {
    const scratch = await mkdtemp(join(this.root, 'scratch-'));
    git(this.root, 'clone', '--quiet', this.url, scratch);
    const exists = git(scratch, 'ls-remote', '--heads', 'origin', branch) !== '';
    if (exists) git(scratch, 'checkout', '--quiet', branch);
    else git(scratch, 'checkout', '--quiet', '-b', branch);
    await writeFile(join(scratch, file), content);
    git(scratch, 'add', file);
    git(scratch, 'commit', '--quiet', '-m', `add ${file}`);
    git(scratch, 'push', '--quiet', 'origin', `HEAD:refs/heads/${branch}`);
    const sha = git(scratch, 'rev-parse', 'HEAD');
    await rm(scratch, { recursive: true, force: true });
    return sha;
  }

  /** Runs the runtime in this process with `env` over a step environment of this home. */
  async run(
    argv: string[],
    env: Record<string, string>,
    signals: SignalSource = new EventEmitter(),
  ): Promise<LocalRun> {
    const stdout = collect();
    const stderr = collect();
    const exitCode = await runAgentRuntime({
      argv,
      env: {
        PATH: process.env.PATH,
        HOME: this.home,
        SANDFLEET_EVENT_TOKEN: EVENT_TOKEN,
        SANDFLEET_AGENT_ID: 'alice',
        ...env,
      },
      stdout: stdout.stream,
      stderr: stderr.stream,
      signals,
      tmpDir: this.root,
      interactive: false,
    });
    const raw = stdout.text();
    const events = [...raw.matchAll(SEQUENCE)].map((match) => {
      if (match[1] !== EVENT_TOKEN) throw new Error(`event with token ${match[1]}`);
      return JSON.parse(Buffer.from(match[2] ?? '', 'base64').toString('utf8')) as DecodedEvent;
    });
    return { exitCode, stdout: raw.replace(SEQUENCE, ''), stderr: stderr.text(), events };
  }

  async remove(): Promise<void> {
    await rm(this.root, { recursive: true, force: true });
  }
}

function collect(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

/** The data of the one event named `name`. */
export function eventData(run: LocalRun, name: string): Record<string, unknown> | undefined {
  return run.events.find((event) => event.name === name)?.data;
}
