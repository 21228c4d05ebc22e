import { randomBytes } from 'node:crypto';
import { createDatabase, type SandfleetDatabase } from '@sandfleet/db';
import { createRedisConnection, StepQueue } from '@sandfleet/queue';
import { CancelBus, EventSubscriber, StepEventPublisher } from '@sandfleet/stream';
import { StepCanceller, StepOutcomes } from '../src/index.js';

export const DATABASE_URL =
  process.env.SANDFLEET_TEST_DATABASE_URL ?? 'postgres://sandfleet:sandfleet@127.0.0.1:5432/sandfleet';
export const REDIS_URL = process.env.SANDFLEET_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * One test file's control plane on the real PostgreSQL and Redis: its own schema, queue prefix
 * and step ids, wired as the API wires it. `close()` removes all of it.
 */
export class StepsWorld {
  readonly id = `st${randomBytes(5).toString('hex')}`;
  readonly db: SandfleetDatabase;
  readonly redis: ReturnType<typeof createRedisConnection>;
  readonly queue: StepQueue;
  readonly subscriber: EventSubscriber;
  readonly cancelBus: CancelBus;
  readonly outcomes: StepOutcomes;
  readonly canceller: StepCanceller;

  private constructor() {
    this.db = createDatabase({ connectionString: DATABASE_URL, schema: `t_${this.id}`, maxConnections: 4 });
    this.redis = createRedisConnection({
      url: REDIS_URL,
      role: 'producer',
      name: `sandfleet-steps-test-${this.id}`,
    });
    this.queue = new StepQueue({ redisUrl: REDIS_URL, prefix: `sftest-${this.id}`, store: this.db.steps });
    this.subscriber = new EventSubscriber({ redis: this.redis });
    this.cancelBus = new CancelBus({ redis: this.redis });
    this.outcomes = new StepOutcomes({
      steps: this.db.steps,
      openPublisher: (o) => this.publisher(o.stepId, o),
    });
    this.canceller = new StepCanceller({
      steps: this.db.steps,
      queue: this.queue,
      cancelBus: this.cancelBus,
      outcomes: this.outcomes,
    });
  }

  static async create(): Promise<StepsWorld> {
    const world = new StepsWorld();
    await world.db.migrate();
    return world;
  }

  /** A random step id of this world (its Redis keys are removed by `close()`). */
  stepId(): string {
    return `${this.id}-${randomBytes(5).toString('hex')}`;
  }

  /** A publisher of a step's events, as a worker's attempt (or the outcomes) opens one. */
  publisher(stepId: string, options: { attempt?: number; outputLimitBytes?: number } = {}) {
    return StepEventPublisher.open({
      redis: this.redis,
      stepId,
      secrets: [],
      outputLimitBytes: options.outputLimitBytes ?? 1 << 20,
      ...(options.attempt === undefined ? {} : { attempt: options.attempt }),
    });
  }

  /** Enqueues a step that waits a minute before a worker could take it (none runs here). */
  async enqueueDelayed(stepId = this.stepId(), extra: Record<string, unknown> = {}): Promise<string> {
    await this.queue.enqueue({
      id: stepId,
      agentId: 'agent-1',
      command: ['true'],
      delayMs: 60_000,
      ...extra,
    });
    return stepId;
  }

  async close(): Promise<void> {
    await this.subscriber.close();
    await this.cancelBus.close();
    await this.queue.queue.obliterate({ force: true });
    await this.queue.close();
    for (const pattern of [`*:events:${this.id}-*`, `*:fence:${this.id}-*`]) {
      for await (const keys of this.redis.scanStream({ match: pattern, count: 1000 })) {
        if ((keys as string[]).length > 0) await this.redis.del(...(keys as string[]));
      }
    }
    await this.redis.quit();
    await this.db.dropSchema();
    await this.db.close();
  }
}

/** Every item of an async iterable. */
export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}
