import type { CliConfig } from '@sandfleet/config';
import { type FleetNames, fleetNames } from '@sandfleet/contracts';
import type { SandfleetDatabase } from '@sandfleet/db';
import type { createRedisConnection, StepQueue, WarmHintQueue } from '@sandfleet/queue';
import type { StepCanceller } from '@sandfleet/steps';
import type { CancelBus, EventSubscriber } from '@sandfleet/stream';

type Redis = ReturnType<typeof createRedisConnection>;

/**
 * Redis and PostgreSQL connections of a CLI command that talks to them directly, each opened on
 * first use and closed together. Each package is loaded only when first needed: the drivers,
 * BullMQ and the step use cases take most of the CLI's start-up time (`ls` needs only PostgreSQL).
 */
export class DirectConnections {
  readonly #config: CliConfig;
  #db?: Promise<SandfleetDatabase>;
  #redis?: Promise<Redis>;
  #queue?: Promise<StepQueue>;
  #warmHints?: Promise<WarmHintQueue>;
  #subscriber?: Promise<EventSubscriber>;
  #cancelBus?: Promise<CancelBus>;
  /** The Redis names of the configured fleet (`SANDFLEET_QUEUE_PREFIX`). */
  readonly names: FleetNames;

  constructor(config: CliConfig) {
    this.#config = config;
    this.names = fleetNames(config.queuePrefix);
  }

  db(): Promise<SandfleetDatabase> {
    this.#db ??= import('@sandfleet/db').then(({ createDatabase }) =>
      createDatabase({
        connectionString: this.#config.databaseUrl,
        schema: this.#config.databaseSchema,
        maxConnections: 2,
      }),
    );
    return this.#db;
  }

  redis(): Promise<Redis> {
    this.#redis ??= import('@sandfleet/queue').then(({ createRedisConnection }) =>
      createRedisConnection({ url: this.#config.redisUrl, role: 'producer', name: 'sandfleet-cli' }),
    );
    return this.#redis;
  }

  queue(): Promise<StepQueue> {
    this.#queue ??= (async () => {
      const [{ StepQueue }, db] = await Promise.all([import('@sandfleet/queue'), this.db()]);
      return new StepQueue({
        redisUrl: this.#config.redisUrl,
        prefix: this.#config.queuePrefix,
        name: this.#config.queueName,
        store: db.steps,
      });
    })();
    return this.#queue;
  }

  /** The fleet's warm-hints producer (no database needed). */
  warmHints(): Promise<WarmHintQueue> {
    this.#warmHints ??= import('@sandfleet/queue').then(
      ({ WarmHintQueue }) =>
        new WarmHintQueue({
          redisUrl: this.#config.redisUrl,
          prefix: this.#config.queuePrefix,
          name: this.#config.queueName,
        }),
    );
    return this.#warmHints;
  }

  subscriber(): Promise<EventSubscriber> {
    this.#subscriber ??= (async () => {
      const [{ EventSubscriber }, redis] = await Promise.all([import('@sandfleet/stream'), this.redis()]);
      return new EventSubscriber({ redis, names: this.names });
    })();
    return this.#subscriber;
  }

  async canceller(): Promise<StepCanceller> {
    const [{ StepCanceller, StepOutcomes }, { CancelBus, StepEventPublisher }, db, queue, redis] =
      await Promise.all([
        import('@sandfleet/steps'),
        import('@sandfleet/stream'),
        this.db(),
        this.queue(),
        this.redis(),
      ]);
    this.#cancelBus ??= Promise.resolve(new CancelBus({ redis, names: this.names }));
    const outcomes = new StepOutcomes({
      steps: db.steps,
      openPublisher: (options) => StepEventPublisher.open({ redis, names: this.names, ...options }),
    });
    return new StepCanceller({ steps: db.steps, queue, cancelBus: await this.#cancelBus, outcomes });
  }

  async close(): Promise<void> {
    const opened = async <T>(connection: Promise<T> | undefined) => connection?.catch(() => undefined);
    await (await opened(this.#subscriber))?.close();
    await (await opened(this.#cancelBus))?.close();
    await (await opened(this.#queue))?.close();
    await (await opened(this.#warmHints))?.close();
    (await opened(this.#redis))?.disconnect();
    await (await opened(this.#db))?.close();
  }
}
