import { isTerminalStatus, type StepStatus } from '@sandfleet/contracts';
import type { StepRecord } from '@sandfleet/db';
import { startPostgresServer, type TestPostgresServer } from '../support/postgres-server.js';
import { startRedisServer, type TestRedisServer } from '../support/redis-server.js';
import { startTestDockerd, type TestDockerd } from '../support/test-dockerd.js';
import { type ChildWorker, TEST_IMAGE, TestFleet } from '../support/test-fleet.js';
import { ContainerStarts } from './container-starts.js';

/** How set-up provisions Redis: append-only file, fsync every second, never evicting. */
const DURABLE_REDIS = [
  '--appendonly',
  'yes',
  '--appendfsync',
  'everysec',
  '--maxmemory-policy',
  'noeviction',
];

/** Worker settings of the fault runs: production-like locks, a quick reconciler. */
export const FAULT_WORKER_ENV = {
  SANDFLEET_WORKER_CONCURRENCY: '4',
  SANDFLEET_LOCK_DURATION_MS: '10000',
  SANDFLEET_STALLED_INTERVAL_MS: '5000',
  SANDFLEET_RECONCILE_INTERVAL_MS: '2000',
  SANDFLEET_RECONCILE_AFTER_MS: '5000',
  SANDFLEET_HEARTBEAT_MS: '1000',
  SANDFLEET_REAPER_INTERVAL_MS: '2000',
};

/** What one load under one fault came to. */
export interface FaultReport {
  fault: string;
  accepted: number;
  byStatus: Partial<Record<StepStatus, number>>;
  /** No row at the end. */
  lost: number;
  /** A row that never reached a terminal status in time. */
  stuck: number;
  /** Steps that needed more than one attempt. */
  retried: number;
  /** Step attempts whose container started more than once. */
  attemptsRunTwice: number;
  /** Steps run again after one of their containers had exited 0. */
  finishedRunAgain: number;
  /** Containers of the fleet still on the engine after its workers stopped. */
  containersLeft: number;
  /** Workers that had exited before the load was over (`w1: exit 1`, `w2: SIGKILL`). */
  workersGone: string[];
  seconds: number;
  /**
   * Steps that went wrong (not terminal, not succeeded, retried, or run again after finishing),
   * with what the workers logged about them: the diagnosis a failed run prints.
   */
  troubled: TroubledStep[];
}

/** One step that did not simply succeed once, and the worker log lines naming it. */
export interface TroubledStep {
  id: string;
  status: string;
  attempts: number;
  exitCode: number | null;
  error: string | null;
  /** The engine's start, kill and die events of its containers. */
  engine: string[];
  log: string[];
}

/**
 * A whole fleet on systems of its own (Redis, PostgreSQL and a Docker engine that the run starts),
 * so a fault injected into any of them never touches the machine's services: two worker processes,
 * a load of steps, one fault, and a report.
 */
export class FaultFleet {
  readonly workers: ChildWorker[] = [];
  readonly starts: ContainerStarts;

  private constructor(
    readonly redis: TestRedisServer,
    readonly postgres: TestPostgresServer,
    readonly dockerd: TestDockerd,
    readonly fleet: TestFleet,
  ) {
    this.starts = new ContainerStarts(dockerd.docker);
  }

  static async start(): Promise<FaultFleet> {
    const redis = await startRedisServer(DURABLE_REDIS);
    let postgres: TestPostgresServer | undefined;
    let dockerd: TestDockerd | undefined;
    let fleet: TestFleet;
    try {
      postgres = await startPostgresServer();
      dockerd = await startTestDockerd({ liveRestore: true, images: [TEST_IMAGE] });
      fleet = await TestFleet.create({
        redisUrl: redis.url,
        databaseUrl: postgres.url,
        dockerSocket: dockerd.socketPath,
      });
    } catch (error) {
      await dockerd?.close();
      postgres?.close();
      await redis.close();
      throw error;
    }
    const faulty = new FaultFleet(redis, postgres, dockerd, fleet);
    faulty.starts.start();
    faulty.spawnWorker();
    faulty.spawnWorker();
    return faulty;
  }

  spawnWorker(): ChildWorker {
    const worker = this.fleet.spawnWorker(FAULT_WORKER_ENV);
    this.workers.push(worker);
    return worker;
  }

  /**
   * Enqueues `steps` steps (each sleeps 0.2–1.5 s, then prints its number) over 50 agents, injects
   * the fault `injectAfterMs` later, and waits for every row to be terminal (or `timeoutMs`).
   */
  async load(fault: string, inject: () => Promise<void>, options: LoadOptions = {}): Promise<FaultReport> {
    const steps = options.steps ?? 200;
    const started = performance.now();
    const agents = Array.from({ length: 50 }, () => this.fleet.agentId());
    const ids: string[] = [];
    for (let i = 0; i < steps; i++) {
      const id = this.fleet.stepId();
      const sleep = (0.2 + ((i * 7919) % 13) / 10).toFixed(1);
      await this.fleet.queue.enqueue({
        id,
        agentId: agents[i % agents.length] as string,
        command: ['sh', '-c', `sleep ${sleep}; echo step ${i}`],
      });
      ids.push(id);
    }
    const elapsed = performance.now() - started;
    await new Promise((resolve) =>
      setTimeout(resolve, Math.max(0, (options.injectAfterMs ?? 8000) - elapsed)),
    );
    await inject();
    const rows = await this.#terminalRows(ids, options.timeoutMs ?? 420_000);
    const workersGone = this.workers.flatMap(({ workerId, process }) =>
      process.exitCode !== null || process.signalCode !== null
        ? [`${workerId}: ${process.signalCode ?? `exit ${process.exitCode}`}`]
        : [],
    );
    for (const worker of this.workers) worker.process.kill('SIGTERM');
    await Promise.all(this.workers.map((worker) => worker.exited));
    const left = (await this.dockerd.docker.listContainers({ all: true })).length;
    const runAgain = this.starts.finishedThenRunAgain();
    const troubled = ids
      .filter((id) => {
        const row = rows.get(id);
        return row?.status !== 'succeeded' || row.attempts > 1 || runAgain.includes(id);
      })
      .map((id) => this.#troubled(id, rows.get(id)));
    const byStatus: FaultReport['byStatus'] = {};
    for (const row of rows.values()) if (row) byStatus[row.status] = (byStatus[row.status] ?? 0) + 1;
    return {
      fault,
      accepted: ids.length,
      byStatus,
      lost: ids.filter((id) => rows.get(id) === undefined).length,
      stuck: [...rows.values()].filter((row) => row && !isTerminalStatus(row.status)).length,
      retried: [...rows.values()].filter((row) => (row?.attempts ?? 0) > 1).length,
      attemptsRunTwice: this.starts.attemptsRunTwice().length,
      finishedRunAgain: runAgain.length,
      containersLeft: left,
      workersGone,
      seconds: Math.round((performance.now() - started) / 1000),
      troubled,
    };
  }

  /** A step's row and every worker log line naming it (at most 40, the last ones). */
  #troubled(id: string, row: StepRecord | undefined): TroubledStep {
    const log = this.workers.flatMap((worker, index) =>
      worker.output
        .join('')
        .split('\n')
        .filter((line) => line.includes(id))
        .map((line) => `worker ${index}: ${line}`),
    );
    return {
      id,
      status: row?.status ?? 'missing',
      attempts: row?.attempts ?? 0,
      exitCode: row?.exitCode ?? null,
      error: row?.error ?? null,
      engine: this.starts.eventsOf(id),
      log: log.slice(-40),
    };
  }

  async close(): Promise<void> {
    // Every service the suite started goes, even when an earlier step throws (a fleet that left
    // containers behind throws from its close); the first error is reported after.
    const steps = [
      () => this.starts.stop(),
      () => this.fleet.close(),
      () => this.dockerd.close(),
      () => this.postgres.close(),
      () => this.redis.close(),
    ];
    const failures: unknown[] = [];
    for (const step of steps) {
      try {
        await step();
      } catch (error) {
        failures.push(error);
      }
    }
    if (failures.length > 0) throw failures[0];
  }

  /** Every step's row once all are terminal, or as they are when `timeoutMs` runs out. */
  async #terminalRows(ids: string[], timeoutMs: number): Promise<Map<string, StepRecord | undefined>> {
    const deadline = Date.now() + timeoutMs;
    const rows = new Map<string, StepRecord | undefined>();
    for (;;) {
      for (const id of ids) {
        const known = rows.get(id);
        if (known && isTerminalStatus(known.status)) continue;
        rows.set(id, await this.fleet.db.steps.get(id).catch(() => known));
      }
      const done = [...rows.values()].every((row) => row && isTerminalStatus(row.status));
      if (done || Date.now() > deadline) return rows;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

export interface LoadOptions {
  /** @defaultValue 200 */
  steps?: number;
  /** @defaultValue 8000 */
  injectAfterMs?: number;
  /** @defaultValue 420000 */
  timeoutMs?: number;
}

/** The report as the table the fault suite prints. */
export function formatReport(report: FaultReport): string {
  const statuses = Object.entries(report.byStatus)
    .map(([status, count]) => `${status} ${count}`)
    .join(', ');
  const rows: [string, string | number][] = [
    ['steps accepted', report.accepted],
    ['terminal by status', statuses || 'none'],
    ['lost (no row)', report.lost],
    ['stuck (no terminal state in time)', report.stuck],
    ['retried (attempts > 1)', report.retried],
    ['containers run more than once for one attempt', report.attemptsRunTwice],
    ['finished containers run again', report.finishedRunAgain],
    ['containers left', report.containersLeft],
    ['workers gone before the end', report.workersGone.join(', ') || 'none'],
    ['seconds', report.seconds],
  ];
  const width = Math.max(...rows.map(([name]) => name.length));
  return [`fault: ${report.fault}`, ...rows.map(([name, value]) => `  ${name.padEnd(width)}  ${value}`)].join(
    '\n',
  );
}

/** The report's troubled steps with their worker log lines, for a failed assertion's message. */
export function formatTroubled(report: FaultReport): string {
  return report.troubled
    .map((step) =>
      [
        `step ${step.id}: ${step.status}, exit code ${step.exitCode ?? 'none'}, ${step.attempts} attempt(s)${step.error ? `, error: ${step.error}` : ''}`,
        `    engine: ${step.engine.join(', ') || 'no events'}`,
        ...step.log.map((line) => `    ${line}`),
      ].join('\n'),
    )
    .join('\n');
}
