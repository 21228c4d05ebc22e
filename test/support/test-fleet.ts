import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { parseConfig, WorkerConfig } from '@sandfleet/config';
import {
  type FleetNames,
  fleetNames,
  isTerminalStatus,
  QUEUE_PREFIX,
  type StepEvent,
} from '@sandfleet/contracts';
import { createDatabase, type SandfleetDatabase, type StepRecord } from '@sandfleet/db';
import { createLogger } from '@sandfleet/logging';
import { createRedisConnection, StepQueue, WarmHintQueue } from '@sandfleet/queue';
import { createDockerSandbox, type Sandbox, type SandboxContainer } from '@sandfleet/sandbox';
import { type CancelResult, StepCanceller, StepOutcomes } from '@sandfleet/steps';
import { CancelBus, EventSubscriber, readEvents, StepEventPublisher } from '@sandfleet/stream';
import { type RunningWorker, startWorker } from '@sandfleet/worker';
import { egressEnv, removeEgress } from './test-egress.js';

export const TEST_DATABASE_URL =
  process.env.SANDFLEET_TEST_DATABASE_URL ?? 'postgres://sandfleet:sandfleet@127.0.0.1:5432/sandfleet';
export const TEST_REDIS_URL = process.env.SANDFLEET_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const TEST_IMAGE = 'sandfleet/test-busybox:latest';

/** How long after its step's outcome a container may still be on its way out, ms. */
const REMOVAL_GRACE_MS = 5000;
const CLI_MAIN = fileURLToPath(new URL('../../apps/cli/dist/main.js', import.meta.url));

/** A worker running as its own process (`sandfleet worker`), so a test can kill it. */
export interface ChildWorker {
  workerId: string;
  process: ChildProcess;
  output: string[];
  exited: Promise<number | null>;
}

export const randomId = (prefix: string) => `${prefix}${randomBytes(5).toString('hex')}`;

export interface TestFleetOptions {
  /** Another PostgreSQL than the machine's (a fault test's own server). */
  databaseUrl?: string;
  /** Another Docker engine than the machine's (a fault test's own dockerd). */
  dockerSocket?: string;
  /** Another Redis than the machine's (a fault test's own server). */
  redisUrl?: string;
  /** The fleet's prefix (`SANDFLEET_QUEUE_PREFIX`): never the default fleet's. @defaultValue `sftest-<id>` */
  queuePrefix?: string;
}

/** A worker started in this process, with its log lines kept for assertions. */
export interface TestWorker extends RunningWorker {
  workerId: string;
  logs: string[];
}

/**
 * An isolated Sandfleet: its own PostgreSQL schema, BullMQ prefix and worker ids, on the real
 * PostgreSQL, Redis and Docker. `close()` stops everything, removes what it made, and fails when
 * a container of its workers is left behind.
 */
export class TestFleet {
  readonly id = randomId('f');
  readonly schema = `t_${this.id}`;
  /** The fleet's prefix: its BullMQ prefix and the start of all its Redis and Docker names. */
  readonly prefix: string;
  /** Every Redis and Docker name of this fleet (events keys, home volumes, …). */
  readonly names: FleetNames;
  readonly db: SandfleetDatabase;
  /** PostgreSQL of this fleet: the machine's, unless the test started its own. */
  readonly databaseUrl: string;
  /** Redis of this fleet: the machine's, unless the test started its own. */
  readonly redisUrl: string;
  readonly redis: ReturnType<typeof createRedisConnection>;
  readonly queue: StepQueue;
  /** The fleet's warm-hints producer (`POST /v1/agents/{agentId}/warm`). */
  readonly warmHints: WarmHintQueue;
  readonly subscriber: EventSubscriber;
  readonly sandbox: Sandbox;
  readonly #dockerSocket: string | undefined;
  readonly workers: TestWorker[] = [];
  readonly children: ChildWorker[] = [];
  readonly cancelBus: CancelBus;
  /** Terminal rows and `finished` events written outside a worker (as the API writes them). */
  readonly outcomes: StepOutcomes;
  readonly canceller: StepCanceller;
  #workerCount = 0;
  readonly #agents: string[] = [];
  readonly #teams: string[] = [];

  private constructor(options: TestFleetOptions) {
    this.databaseUrl = options.databaseUrl ?? TEST_DATABASE_URL;
    this.#dockerSocket = options.dockerSocket;
    this.prefix = options.queuePrefix ?? `sftest-${this.id}`;
    // close() deletes every key under the prefix: never the default fleet's.
    if (this.prefix === QUEUE_PREFIX) throw new Error(`a test fleet may not use the prefix ${QUEUE_PREFIX}`);
    this.names = fleetNames(this.prefix);
    this.sandbox = createDockerSandbox({
      names: this.names,
      ...(options.dockerSocket ? { socketPath: options.dockerSocket } : {}),
    });
    this.db = createDatabase({ connectionString: this.databaseUrl, schema: this.schema, maxConnections: 4 });
    this.redisUrl = options.redisUrl ?? TEST_REDIS_URL;
    this.redis = createRedisConnection({ url: this.redisUrl, role: 'producer', name: 'sandfleet-test' });
    // Commands fail on their own while Redis is away (a fault test restarts it); ioredis would
    // otherwise print every reconnection error.
    this.redis.on('error', () => undefined);
    this.queue = new StepQueue({ redisUrl: this.redisUrl, prefix: this.prefix, store: this.db.steps });
    this.warmHints = new WarmHintQueue({ redisUrl: this.redisUrl, prefix: this.prefix });
    this.subscriber = new EventSubscriber({ redis: this.redis, names: this.names });
    this.cancelBus = new CancelBus({ redis: this.redis, names: this.names });
    this.outcomes = new StepOutcomes({
      steps: this.db.steps,
      openPublisher: (options) =>
        StepEventPublisher.open({ redis: this.redis, names: this.names, ...options }),
    });
    this.canceller = new StepCanceller({
      steps: this.db.steps,
      queue: this.queue,
      cancelBus: this.cancelBus,
      outcomes: this.outcomes,
    });
  }

  cancel(stepId: string): Promise<CancelResult> {
    return this.canceller.cancel(stepId);
  }

  static async create(options: TestFleetOptions = {}): Promise<TestFleet> {
    const fleet = new TestFleet(options);
    await fleet.db.migrate();
    return fleet;
  }

  /** A step id of this fleet (its events keys are removed by `close()`). */
  stepId(): string {
    return randomId(`${this.id}-s`);
  }

  /** An agent id of this fleet, or `id` (another fleet's); its home volume is removed by `close()`. */
  agentId(id = randomId(`${this.id}-a`).toLowerCase()): string {
    this.#agents.push(id);
    return id;
  }

  /** A team whose shared vault volume `close()` removes (its name is the fleet's own already). */
  team(name: string): string {
    this.#teams.push(name);
    return name;
  }

  /** Environment of a worker of this fleet: fast heartbeats, short locks, the test image. */
  workerEnv(overrides: Record<string, string> = {}): Record<string, string> {
    this.#workerCount += 1;
    return {
      SANDFLEET_DATABASE_URL: this.databaseUrl,
      SANDFLEET_DATABASE_SCHEMA: this.schema,
      SANDFLEET_REDIS_URL: this.redisUrl,
      SANDFLEET_QUEUE_PREFIX: this.prefix,
      SANDFLEET_WORKER_ID: `${this.id}-w${this.#workerCount}`,
      SANDFLEET_DEFAULT_IMAGE: TEST_IMAGE,
      SANDFLEET_DEFAULT_MEMORY_MB: '64',
      SANDFLEET_DEFAULT_TIMEOUT_MS: '60000',
      SANDFLEET_STOP_GRACE_MS: '1000',
      SANDFLEET_DRAIN_GRACE_MS: '5000',
      SANDFLEET_HEARTBEAT_MS: '500',
      SANDFLEET_REAPER_INTERVAL_MS: '1000',
      SANDFLEET_LOCK_DURATION_MS: '3000',
      SANDFLEET_STALLED_INTERVAL_MS: '1000',
      SANDFLEET_LOG_LEVEL: 'info',
      ...(this.#dockerSocket ? { SANDFLEET_DOCKER_SOCKET: this.#dockerSocket } : {}),
      ...egressEnv(this.id),
      ...overrides,
    };
  }

  /** Starts a worker in this process. */
  async startWorker(
    overrides: Record<string, string> = {},
    secrets: Record<string, string> = {},
  ): Promise<TestWorker> {
    const config = parseConfig(WorkerConfig, this.workerEnv(overrides)) as WorkerConfig;
    const logs: string[] = [];
    const destination = new Writable({
      write(chunk, _encoding, done) {
        logs.push(String(chunk));
        done();
      },
    });
    const logger = createLogger({
      name: 'worker',
      level: 'info',
      secrets: Object.values(secrets),
      destination,
    });
    const running = await startWorker(config, secrets, logger);
    const worker: TestWorker = { ...running, workerId: config.workerId, logs };
    this.workers.push(worker);
    return worker;
  }

  /** Starts `sandfleet worker` as a child process of the test; `close()` kills what is left. */
  spawnWorker(overrides: Record<string, string> = {}): ChildWorker {
    const env = this.workerEnv(overrides);
    const child = spawn(process.execPath, [CLI_MAIN, 'worker'], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output: string[] = [];
    child.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const worker: ChildWorker = {
      workerId: env.SANDFLEET_WORKER_ID as string,
      process: child,
      output,
      exited,
    };
    this.children.push(worker);
    return worker;
  }

  /** Every event of a step until `finished`: live, after a replay of what came before. */
  async events(stepId: string, timeoutMs = 60_000): Promise<StepEvent[]> {
    const events: StepEvent[] = [];
    const signal = AbortSignal.timeout(timeoutMs);
    // Straight on the subscriber: a test starts following before it enqueues the step.
    for await (const event of this.subscriber.follow(stepId, { afterSeq: 0, signal })) events.push(event);
    if (events.at(-1)?.type !== 'finished')
      throw new Error(`step ${stepId} did not finish within ${timeoutMs} ms`);
    return events;
  }

  replay(stepId: string): Promise<StepEvent[]> {
    return readEvents({ redis: this.redis, names: this.names, stepId });
  }

  /** Waits until the step's row is in a terminal status (polling PostgreSQL), then returns it. */
  async terminal(stepId: string, timeoutMs = 60_000): Promise<StepRecord> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const row = await this.db.steps.get(stepId);
      if (row && isTerminalStatus(row.status)) return row;
      if (Date.now() > deadline)
        throw new Error(`step ${stepId} is ${row?.status ?? 'missing'} after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Waits for a condition, polling; fails after the timeout. */
  /** Waits until the step is `running` on the worker. */
  async runningOn(stepId: string, workerId: string): Promise<void> {
    await this.until(`step ${stepId} to run on worker ${workerId}`, async () => {
      const row = await this.db.steps.get(stepId);
      return row?.status === 'running' && row.workerId === workerId;
    });
  }

  /** The containers of a worker, once it has one (its step has got that far). */
  containersOf(workerId: string): Promise<SandboxContainer[]> {
    return this.until(`a container of worker ${workerId}`, async () => {
      const list = await this.sandbox.listContainers({ workerId });
      return list.length > 0 ? list : undefined;
    });
  }

  async until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /**
   * Containers of this fleet's workers still on the engine: every step's container, and warm
   * ones that are neither being made nor waiting at their gate (a pool keeps those while its
   * worker lives);
   * with `warm`, every warm container too (what a worker that shut down must not leave).
   * A step's container is removed just after its outcome is recorded, so one is only left over
   * when it is still there {@link REMOVAL_GRACE_MS} later.
   */
  async leftovers(options: { warm?: boolean } = {}): Promise<string[]> {
    const deadline = Date.now() + REMOVAL_GRACE_MS;
    for (;;) {
      const left = (await this.sandbox.listContainers())
        .filter((c) => c.workerId?.startsWith(`${this.id}-`))
        .filter(
          (c) => options.warm === true || c.warmId === undefined || !['created', 'running'].includes(c.state),
        )
        .map((c) => c.id);
      if (left.length === 0 || Date.now() > deadline) return left;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.close()));
    for (const child of this.children) {
      if (child.process.exitCode === null && child.process.signalCode === null) {
        child.process.kill('SIGTERM');
        await child.exited;
      }
    }
    const left = await this.leftovers({ warm: true });
    for (const worker of [...this.workers, ...this.children])
      await this.sandbox.removeWorkerContainers(worker.workerId);
    await this.subscriber.close();
    await this.cancelBus.close();
    await this.queue.queue.obliterate({ force: true });
    // Events, fences, heartbeats and agent locks: everything of the fleet the queue did not hold.
    for await (const keys of this.redis.scanStream({ match: `${this.prefix}:*`, count: 1000 })) {
      if ((keys as string[]).length > 0) await this.redis.del(...(keys as string[]));
    }
    await this.queue.close();
    await this.warmHints.close();
    for (const agentId of this.#agents) await this.sandbox.removeAgentHome(agentId);
    await this.sandbox.removeSharedVault();
    for (const team of this.#teams) await this.sandbox.removeSharedVault(team);
    await this.db.dropSchema();
    await this.db.close();
    await this.sandbox.close();
    const leftNetworks = await removeEgress(this.id);
    this.redis.disconnect();
    if (left.length > 0) throw new Error(`containers left behind: ${left.join(', ')}`);
    if (leftNetworks.length > 0) throw new Error(`step networks left behind: ${leftNetworks.join(', ')}`);
  }
}
