import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { ChildWorker, TestFleet } from '../support/test-fleet.ts';
import { sandfleetStep } from './sandfleet-step.ts';

const MIB = 1024 * 1024;

/** Output a bench step may keep: room for the 16 MiB output measure. */
export const BENCH_OUTPUT_LIMIT = 32 * MIB;

/**
 * Worker settings of the bench besides the test fleet's: plain home volumes (`sandfleet up`'s
 * and `.env.example`'s `SANDFLEET_DISKS_DIR=off`, so the home is one volume as on the raw side),
 * an output limit that allows the 16 MiB step, and quiet logs.
 */
export const BENCH_WORKER_ENV = {
  SANDFLEET_DISKS_DIR: 'off',
  SANDFLEET_MAX_OUTPUT_BYTES: String(BENCH_OUTPUT_LIMIT),
  SANDFLEET_LOG_LEVEL: 'warn',
};

const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** User + system CPU time of a process so far, ms (from /proc/<pid>/stat). */
export function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command (which may hold spaces), from field 3 (state) on.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1000) / CLOCK_TICKS;
}

/** `sandfleet worker` as a child process of the bench, at a given concurrency. */
export class BenchWorker {
  readonly child: ChildWorker;
  readonly concurrency: number;
  /** The worker's Prometheus endpoint (on loopback). */
  readonly metricsUrl: string;

  private constructor(child: ChildWorker, concurrency: number, metricsPort: number) {
    this.child = child;
    this.concurrency = concurrency;
    this.metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
  }

  /** Spawns the worker and waits until it has run one step. */
  static async start(fleet: TestFleet, concurrency: number): Promise<BenchWorker> {
    const metricsPort = await freePort();
    const child = fleet.spawnWorker({
      ...BENCH_WORKER_ENV,
      SANDFLEET_WORKER_CONCURRENCY: String(concurrency),
      SANDFLEET_METRICS_PORT: String(metricsPort),
    });
    const worker = new BenchWorker(child, concurrency, metricsPort);
    const ready = sandfleetStep(fleet, fleet.agentId(), ['echo', 'ready'], 60_000);
    const exited = child.exited.then((code) => {
      throw new Error(`worker exited (${code}) before it was ready: ${child.output.join('').slice(-2000)}`);
    });
    await Promise.race([ready, exited]);
    return worker;
  }

  get pid(): number {
    const { pid } = this.child.process;
    if (pid === undefined) throw new Error('the worker has no pid');
    return pid;
  }

  cpuMs(): number {
    return processCpuMs(this.pid);
  }

  /** Sum of a counter's samples whose labels include `labels` (e.g. `result="hit"`). */
  async counter(name: string, labels = ''): Promise<number> {
    const text = await (await fetch(this.metricsUrl)).text();
    return text
      .split('\n')
      .filter((line) => line.startsWith(`${name}{`) && line.includes(labels))
      .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
  }

  /** SIGTERM, then waits for the exit (the worker drains and removes its containers). */
  async stop(): Promise<void> {
    const { process: child } = this.child;
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await this.child.exited;
    }
  }
}

/** A loopback port nothing listens on now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}
