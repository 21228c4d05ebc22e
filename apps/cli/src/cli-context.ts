import { CliConfig, loadEnv, parseConfig } from '@sandfleet/config';
import { createDatabase, type SandfleetDatabase } from '@sandfleet/db';
import { StepCanceller } from '@sandfleet/engine';
import { createRedisConnection, StepQueue } from '@sandfleet/queue';
import { CancelBus, EventSubscriber, StepEventPublisher } from '@sandfleet/stream';

type Redis = ReturnType<typeof createRedisConnection>;

/**
 * Connections a CLI command needs, opened on first use and closed together at the end.
 * Commands talk to Redis and PostgreSQL directly.
 */
export class CliContext {
  readonly config: CliConfig;
  #db?: SandfleetDatabase;
  #redis?: Redis;
  #queue?: StepQueue;
  #subscriber?: EventSubscriber;
  #cancelBus?: CancelBus;

  constructor(env: NodeJS.ProcessEnv) {
    this.config = parseConfig(CliConfig, loadEnv({ env })) as CliConfig;
  }

  get db(): SandfleetDatabase {
    this.#db ??= createDatabase({
      connectionString: this.config.databaseUrl,
      schema: this.config.databaseSchema,
      maxConnections: 2,
    });
    return this.#db;
  }

  get redis(): Redis {
    this.#redis ??= createRedisConnection({
      url: this.config.redisUrl,
      role: 'producer',
      name: 'sandfleet-cli',
    });
    return this.#redis;
  }

  get queue(): StepQueue {
    this.#queue ??= new StepQueue({
      redisUrl: this.config.redisUrl,
      prefix: this.config.queuePrefix,
      name: this.config.queueName,
      store: this.db.steps,
    });
    return this.#queue;
  }

  get subscriber(): EventSubscriber {
    this.#subscriber ??= new EventSubscriber({ redis: this.redis });
    return this.#subscriber;
  }

  canceller(): StepCanceller {
    this.#cancelBus ??= new CancelBus({ redis: this.redis });
    return new StepCanceller({
      steps: this.db.steps,
      queue: this.queue,
      cancelBus: this.#cancelBus,
      openPublisher: (options) => StepEventPublisher.open({ redis: this.redis, ...options }),
    });
  }

  async close(): Promise<void> {
    await this.#subscriber?.close();
    await this.#cancelBus?.close();
    await this.#queue?.close();
    this.#redis?.disconnect();
    await this.#db?.close();
  }
}
