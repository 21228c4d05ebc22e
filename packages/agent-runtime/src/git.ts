import { spawn } from 'node:child_process';
import { parseConfigList, safeRepoConfig, writeRepoConfig } from './git-config-reset.js';
import { type GitAuth, gitAuth, redactToken, redactUrl } from './git-credential.js';

/** Output kept from one git command, per stream (the end is kept: errors come last). */
const MAX_CAPTURED = 64 * 1024;

/** PATH of the runtime's own programs: never a directory of the agent's home. */
export const SAFE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * Given before every subcommand of the runtime's git: nothing configured in the agent's home or
 * repositories can make it run a command (hooks, fsmonitor, pagers, ssh, ext:: remotes, askpass,
 * credential helpers other than the runtime's own, which is added after this reset).
 */
export const HARDENED_GIT_ARGS: readonly string[] = [
  'core.hooksPath=/dev/null',
  'core.fsmonitor=false',
  'core.pager=cat',
  'core.askPass=',
  'core.sshCommand=ssh -F /dev/null -o BatchMode=yes',
  'protocol.ext.allow=never',
  'credential.helper=',
  'gc.auto=0',
  'maintenance.auto=false',
].flatMap((setting) => ['-c', setting]);

export interface GitOptions {
  /** The repository URL, the scope of the credential. */
  repo: string;
  token: string | undefined;
  /**
   * Directories git never looks above for a repository (`GIT_CEILING_DIRECTORIES`): the home
   * and `task-workspaces`, which the agent could have made repositories of its own.
   */
  ceilings: readonly string[];
  /** Aborts (SIGTERM) the running git process, e.g. when the container is stopped. */
  signal: AbortSignal;
  /** Proxy variables (`HTTPS_PROXY`, `NO_PROXY`, …) of the runtime's environment, passed on. */
  proxyEnv?: Readonly<Record<string, string>>;
}

/** The variables of the runtime's environment the runtime's git keeps: where its proxy is. */
export const GIT_PROXY_VARIABLES = ['HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'NO_PROXY'].flatMap((name) => [
  name,
  name.toLowerCase(),
]);

/** The proxy variables set in `env`. */
export function proxyEnvOf(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  return Object.fromEntries(
    GIT_PROXY_VARIABLES.flatMap((name) => (env[name] ? [[name, env[name] as string]] : [])),
  );
}

/**
 * `--receive-pack` for a push to a repository on this machine (`file://`, a path): git runs the
 * remote's receive-pack itself, without the `-c` settings, so the remote's hooks (which the agent
 * could write, were it in the home) are switched off there too. Undefined for network transports.
 */
export function localReceivePack(repo: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(repo) && !repo.startsWith('file:')) return undefined;
  if (/^[\w.-]+@[\w.-]+:/.test(repo)) return undefined;
  return 'git -c core.hooksPath=/dev/null -c core.fsmonitor=false receive-pack';
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
    // The arguments hold the repository URL: its user info is masked like git's own messages.
    super(
      redactUrl(`git ${args.join(' ')} exited ${outcome.code}: ${outcome.stderr.trim() || '(no output)'}`),
    );
    this.name = 'GitCommandError';
    this.outcome = outcome;
  }
}

/**
 * Runs git for the runtime: never prompts, authenticates per invocation, redacts the token, and
 * ignores the agent's home: no system or global config (`GIT_CONFIG_NOSYSTEM`,
 * `GIT_CONFIG_GLOBAL=/dev/null`), `HOME` not the home, {@link HARDENED_GIT_ARGS}, and each
 * repository's config reset to a known-safe set before the first command in it.
 */
export class Git {
  readonly #options: GitOptions;
  readonly #auth: GitAuth;
  /** Working directories whose repository config was reset by this instance. */
  readonly #reset = new Set<string>();

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
  async attempt(args: readonly string[], options: GitRunOptions): Promise<GitOutcome> {
    await this.#resetRepoConfig(options.cwd);
    return this.#spawn(args, options);
  }

  /**
   * Before the first command in `cwd`: when it is in a repository, that repository's config
   * (the common one of a worktree) is rewritten with only its safe entries. The agent may have
   * changed it since the last step (the runtime only runs git while no step process exists).
   */
  async #resetRepoConfig(cwd: string): Promise<void> {
    if (this.#reset.has(cwd)) return;
    this.#reset.add(cwd);
    const found = await this.#spawn(['rev-parse', '--path-format=absolute', '--git-common-dir'], { cwd });
    if (found.code !== 0) return;
    const gitDir = found.stdout.trim();
    const listed = await this.#spawn(['config', '--file', `${gitDir}/config`, '--null', '--list'], { cwd });
    await writeRepoConfig(gitDir, safeRepoConfig(listed.code === 0 ? parseConfigList(listed.stdout) : []));
  }

  #spawn(args: readonly string[], options: GitRunOptions): Promise<GitOutcome> {
    const auth = options.auth === true ? this.#auth : { configArgs: [], env: {} };
    // Built from nothing: no variable of the step (GIT_*, LD_PRELOAD, …) reaches the runtime's git.
    const env: Record<string, string> = {
      PATH: SAFE_PATH,
      HOME: '/nonexistent',
      LC_ALL: 'C',
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_ATTR_NOSYSTEM: '1',
      GIT_CEILING_DIRECTORIES: this.#options.ceilings.join(':'),
      GIT_TERMINAL_PROMPT: '0',
      GCM_INTERACTIVE: 'never',
      GIT_PAGER: 'cat',
      PAGER: 'cat',
      GIT_SSH_COMMAND: 'ssh -F /dev/null -o BatchMode=yes',
      ...this.#options.proxyEnv,
      ...auth.env,
    };
    return new Promise((resolve, reject) => {
      const child = spawn('git', [...HARDENED_GIT_ARGS, ...auth.configArgs, ...args], {
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
