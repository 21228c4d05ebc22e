import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A Redis server of the test's own, on a free loopback port, with its own data directory. */
export interface TestRedisServer {
  url: string;
  port: number;
  dir: string;
  /** Stops it (SIGTERM, as a service manager would) and waits for the exit. */
  stop(): Promise<void>;
  /** Starts it again on the same port with the same data directory (and so its append-only file). */
  start(): Promise<void>;
  /** Stops it and removes its data directory. */
  close(): Promise<void>;
}

/** A free TCP port on 127.0.0.1 (the kernel picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject()));
    });
  });
}

/** Starts `redis-server` with `flags` (e.g. `['--appendonly', 'no']`) and waits until it answers. */
export async function startRedisServer(flags: string[] = [], dir?: string): Promise<TestRedisServer> {
  const port = await freePort();
  const dataDir = dir ?? mkdtempSync(join(tmpdir(), 'sandfleet-redis-'));
  let exited: Promise<void> = Promise.resolve();
  let child: ChildProcess | undefined;
  const start = async () => {
    const launched = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--dir', dataDir, '--save', '', ...flags],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = launched;
    exited = new Promise<void>((resolve) => launched.once('exit', () => resolve()));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('redis-server did not start within 10 s')), 10_000);
      launched.stdout?.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve();
        }
      });
      launched.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited with ${code}`));
      });
    });
  };
  const stop = async () => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir: dataDir,
    stop,
    start,
    close: async () => {
      await stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The writes {@link fillToMaxmemory} makes (an ioredis connection fits). */
export interface RedisKeyWriter {
  set(key: string, value: string): Promise<unknown>;
  del(key: string): Promise<unknown>;
}

/**
 * Fills a Redis started with `--maxmemory` and `noeviction` with 64 KiB keys under `prefix` until
 * it refuses a write with `-OOM`; `release()` deletes them again.
 * @throws Error when a write fails otherwise, or 200 keys (12 MiB) were taken.
 */
export async function fillToMaxmemory(
  redis: RedisKeyWriter,
  prefix: string,
): Promise<{ filled: number; release(): Promise<void> }> {
  const chunk = 'x'.repeat(64 * 1024);
  let filled = 0;
  for (;;) {
    const refused = await redis.set(`${prefix}:fill:${filled}`, chunk).then(
      () => undefined,
      (error: Error) => error,
    );
    if (refused) {
      if (!/^OOM /.test(refused.message)) throw refused;
      break;
    }
    filled += 1;
    if (filled > 200) throw new Error('Redis took 12 MiB past a 2 MiB maxmemory');
  }
  return {
    filled,
    release: async () => {
      for (let i = 0; i < filled; i++) await redis.del(`${prefix}:fill:${i}`);
    },
  };
}
