import { type ChildProcess, spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { commonVars } from '@sandfleet/config';

/** The built `sandfleet` command (`pnpm build` first). */
export const CLI_MAIN = fileURLToPath(new URL('../../apps/cli/dist/main.js', import.meta.url));

/** How a `sandfleet` process ended and everything it printed. */
export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Wall-clock time from spawn to exit, ms. */
  ms: number;
}

/** A `sandfleet` child process; `stdout` and `stderr` grow as it prints. */
export interface CliProcess {
  readonly child: ChildProcess;
  readonly stdout: string;
  readonly stderr: string;
  readonly exited: Promise<CliResult>;
}

export interface SpawnCliOptions {
  /** The whole environment of the process besides PATH (nothing is inherited from the test). */
  env: Record<string, string>;
  /** Killed with SIGKILL after this long, so a hang fails the test instead of stalling it. */
  timeoutMs?: number;
}

/**
 * The variables `sandfleet` reads that a worker of the same fleet shares (database, schema, Redis,
 * queue, log level), picked from that worker's environment so worker-only variables stay out.
 */
export function cliEnvFrom(workerEnv: Record<string, string>): Record<string, string> {
  const shared = new Set(Object.keys(commonVars));
  return Object.fromEntries(Object.entries(workerEnv).filter(([name]) => shared.has(name)));
}

/**
 * Starts `node apps/cli/dist/main.js ...args` in an empty-of-config directory (no `.env` is picked
 * up) with exactly `options.env`.
 */
export function spawnCli(args: readonly string[], options: SpawnCliOptions): CliProcess {
  const started = Date.now();
  const child = spawn(process.execPath, [CLI_MAIN, ...args], {
    cwd: tmpdir(),
    env: { PATH: process.env.PATH ?? '', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
  const exited = new Promise<CliResult>((resolve, reject) => {
    child.once('error', reject);
    // 'close' rather than 'exit': the pipes are drained, so stdout and stderr are complete.
    child.once('close', (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
  return {
    child,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    exited,
  };
}

/** Runs `sandfleet ...args` to its end. */
export function runCli(args: readonly string[], options: SpawnCliOptions): Promise<CliResult> {
  return spawnCli(args, options).exited;
}
