import { spawn } from 'node:child_process';
import { GIT_PASSWORD_ENV, type GitAuth, gitAuth, redactToken } from './git-credential.js';

/** Output kept from one git command, per stream (the end is kept: errors come last). */
const MAX_CAPTURED = 64 * 1024;

export interface GitOptions {
  /** The repository URL, the scope of the credential. */
  repo: string;
  token: string | undefined;
  /** Environment every git process starts from (the runtime's own). */
  env: Readonly<Record<string, string | undefined>>;
  /** Aborts (SIGTERM) the running git process, e.g. when the container is stopped. */
  signal: AbortSignal;
}

export interface GitRunOptions {
  cwd: string;
  /** Send the credential (commands that talk to the remote). @defaultValue `false` */
  auth?: boolean;
  /** Text for git's stdin. */
  input?: string;
}

export interface GitOutcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** A git command that exited non-zero; the message has git's stderr, with the token redacted. */
export class GitCommandError extends Error {
  readonly outcome: GitOutcome;

  constructor(args: readonly string[], outcome: GitOutcome) {
    super(`git ${args.join(' ')} exited ${outcome.code}: ${outcome.stderr.trim() || '(no output)'}`);
    this.name = 'GitCommandError';
    this.outcome = outcome;
  }
}

/** Runs git for the runtime: never prompts, authenticates per invocation, redacts the token. */
export class Git {
  readonly #options: GitOptions;
  readonly #auth: GitAuth;

  constructor(options: GitOptions) {
    this.#options = options;
    this.#auth = gitAuth(options.repo, options.token);
  }

  /** stdout of `git <args>`, trimmed; throws {@link GitCommandError} on a non-zero exit. */
  async run(args: readonly string[], options: GitRunOptions): Promise<string> {
    const outcome = await this.attempt(args, options);
    if (outcome.code !== 0) throw new GitCommandError(args, outcome);
    return outcome.stdout.trim();
  }

  /** `git <args>` whatever its exit code (for questions such as "does this ref exist?"). */
  attempt(args: readonly string[], options: GitRunOptions): Promise<GitOutcome> {
    const auth = options.auth === true ? this.#auth : { configArgs: [], env: {} };
    const env: Record<string, string | undefined> = {
      ...this.#options.env,
      ...auth.env,
      GIT_TERMINAL_PROMPT: '0',
      GCM_INTERACTIVE: 'never',
      LC_ALL: 'C',
    };
    delete env.GIT_ASKPASS;
    delete env.SSH_ASKPASS;
    if (options.auth !== true) delete env[GIT_PASSWORD_ENV];
    return new Promise((resolve, reject) => {
      const child = spawn('git', [...auth.configArgs, ...args], {
        cwd: options.cwd,
        env,
        stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
        signal: this.#options.signal,
      });
      child.stdin?.on('error', () => {}); // git may exit before reading it; its exit code says why
      child.stdin?.end(options.input);
      const stdout = new TailBuffer();
      const stderr = new TailBuffer();
      child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
      child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
      child.on('error', reject);
      child.on('close', (code, signal) => {
        const token = this.#options.token;
        resolve({
          code: code ?? (signal === null ? 1 : 128),
          stdout: redactToken(stdout.text(), token),
          stderr: redactToken(stderr.text(), token),
        });
      });
    });
  }
}

/** The last {@link MAX_CAPTURED} bytes written to a stream. */
class TailBuffer {
  #chunks: Buffer[] = [];
  #size = 0;

  push(chunk: Buffer): void {
    this.#chunks.push(chunk);
    this.#size += chunk.length;
    while (this.#size - (this.#chunks[0]?.length ?? 0) >= MAX_CAPTURED) {
      this.#size -= this.#chunks.shift()?.length ?? 0;
    }
  }

  text(): string {
    return Buffer.concat(this.#chunks).toString('utf8');
  }
}
