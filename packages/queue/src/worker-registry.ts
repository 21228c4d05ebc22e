import { hostname } from 'node:os';
import { DEFAULT_FLEET_NAMES, type FleetNames, WorkerHeartbeat } from '@sandfleet/contracts';
import type { Redis } from 'ioredis';

export interface WorkerRegistryOptions {
  redis: Redis;
  /**
   * Names of the worker's fleet: its reapers judge only containers of workers heartbeating here.
   * @defaultValue the default fleet's (`sandfleet:workers:{id}`)
   */
  names?: FleetNames;
  workerId: string;
  concurrency: number;
  /** How often the heartbeat is renewed, ms. The key lives three times this long. */
  heartbeatMs: number;
}

/**
 * A worker's heartbeat in Redis (`<prefix>:workers:{id}` with a TTL), and the question every
 * reaper asks: is the worker that owns this container still alive?
 */
export class WorkerRegistry {
  readonly #options: WorkerRegistryOptions;
  readonly #names: FleetNames;
  readonly #startedAt = new Date().toISOString();
  #timer?: NodeJS.Timeout;

  constructor(options: WorkerRegistryOptions) {
    this.#options = options;
    this.#names = options.names ?? DEFAULT_FLEET_NAMES;
  }

  /** How long a heartbeat key lives after a beat, ms: three beats. */
  get ttlMs(): number {
    return this.#options.heartbeatMs * 3;
  }

  async start(): Promise<void> {
    await this.beat();
    this.#timer = setInterval(() => void this.beat().catch(() => {}), this.#options.heartbeatMs);
    this.#timer.unref();
  }

  async beat(): Promise<void> {
    const { redis, workerId, concurrency } = this.#options;
    const value: WorkerHeartbeat = {
      workerId,
      hostname: hostname(),
      pid: process.pid,
      startedAt: this.#startedAt,
      concurrency,
    };
    await redis.set(this.#names.worker(workerId), JSON.stringify(value), 'PX', this.ttlMs);
  }

  async isAlive(workerId: string): Promise<boolean> {
    return (await this.#options.redis.exists(this.#names.worker(workerId))) === 1;
  }

  /** Heartbeats of every live worker. */
  async list(): Promise<WorkerHeartbeat[]> {
    const keys: string[] = [];
    for await (const batch of this.#options.redis.scanStream({
      match: this.#names.worker('*'),
      count: 1000,
    })) {
      keys.push(...(batch as string[]));
    }
    if (keys.length === 0) return [];
    // SCAN may return a key more than once.
    const values = await this.#options.redis.mget([...new Set(keys)]);
    return values.flatMap((value) => {
      const heartbeat = value === null ? undefined : parseHeartbeat(value);
      return heartbeat ? [heartbeat] : [];
    });
  }

  /** Stops the heartbeat and removes the key, so reapers need not wait for it to expire. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#options.redis.del(this.#names.worker(this.#options.workerId));
  }
}

/** A heartbeat value, or undefined for one that is not (a key another program wrote, or garbled). */
function parseHeartbeat(value: string): WorkerHeartbeat | undefined {
  try {
    const parsed = WorkerHeartbeat.safeParse(JSON.parse(value));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
