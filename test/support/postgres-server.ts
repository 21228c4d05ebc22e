import { execFileSync } from 'node:child_process';
import { chownSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './redis-server.js';

/** A PostgreSQL cluster of the test's own (initdb in a temporary directory, its own port). */
export interface TestPostgresServer {
  url: string;
  port: number;
  /** Stops the server (fast shutdown: connections are cut, as when a database host goes away). */
  stop(): void;
  start(): void;
  /** Stops it and removes its data directory. */
  close(): void;
}

const BIN = join('/usr/lib/postgresql', readdirSync('/usr/lib/postgresql').sort().at(-1) ?? '15', 'bin');

/** As the `postgres` user when root (PostgreSQL refuses to run as root). */
function asPostgres(command: string, args: string[]): void {
  const [file, argv] =
    process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];
  execFileSync(file, argv, { stdio: 'pipe' });
}

/** Creates and starts a cluster with trust authentication on 127.0.0.1 and a free port. */
export async function startPostgresServer(): Promise<TestPostgresServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'sandfleet-pg-'));
  const data = join(dir, 'data');
  if (process.getuid?.() === 0) chownSync(dir, uidOf('postgres'), gidOf('postgres'));
  asPostgres(join(BIN, 'initdb'), ['-D', data, '--auth=trust', '--username=postgres', '--no-sync']);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`;
  const start = () =>
    asPostgres(join(BIN, 'pg_ctl'), ['-D', data, '-o', options, '-w', '-l', join(dir, 'log'), 'start']);
  const stop = () => asPostgres(join(BIN, 'pg_ctl'), ['-D', data, '-m', 'fast', '-w', 'stop']);
  start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    start,
    stop,
    close: () => {
      try {
        stop();
      } catch {
        // Already stopped.
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function uidOf(user: string): number {
  return Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
}

function gidOf(user: string): number {
  return Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }).trim());
}
