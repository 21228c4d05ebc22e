import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { CLI_MAIN, type CliProcess, type SpawnCliOptions } from './cli-process.js';

const quote = (arg: string) => `'${arg.replaceAll("'", `'\\''`)}'`;

/**
 * Starts `sandfleet ...args` on a pseudo-terminal (util-linux `script`), so stdout and stderr are
 * TTYs as in an interactive shell; both land in `stdout`, escape sequences included.
 */
export function spawnCliInTerminal(args: readonly string[], options: SpawnCliOptions): CliProcess {
  const started = Date.now();
  // A pty made without a parent terminal has no size; give it one as a terminal window would.
  const command = `stty cols 120 rows 40; exec ${[process.execPath, CLI_MAIN, ...args].map(quote).join(' ')}`;
  const child = spawn('script', ['--quiet', '--flush', '--return', '--command', command, '/dev/null'], {
    cwd: tmpdir(),
    env: { PATH: process.env.PATH ?? '', TERM: 'xterm', ...options.env },
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
  const exited = new Promise<Awaited<CliProcess['exited']>>((resolve, reject) => {
    child.once('error', reject);
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
