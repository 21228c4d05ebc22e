import { randomUUID } from 'node:crypto';
import { DEFAULT_FLEET_NAMES, type FleetNames, fleetNames } from '@sandfleet/contracts';
import { Redis } from 'ioredis';

/** Redis the integration tests run against. */
export const REDIS_URL = process.env.SANDFLEET_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * One test's Redis world: connections named after the test (so leaks are visible in CLIENT
 * LIST, including connections duplicated from them), random step ids, and cleanup of both.
 */
export class TestRedis {
  readonly name = `sandfleet-stream-test-${randomUUID().slice(0, 8)}`;
  readonly #clients: Redis[] = [];
  readonly #keys = new Set<string>();
  readonly #fleets: FleetNames[] = [];
  readonly #admin = new Redis(REDIS_URL, { lazyConnect: true });

  /** A new connection, closed by `cleanup()`. */
  client(): Redis {
    const client = new Redis(REDIS_URL, { connectionName: this.name, maxRetriesPerRequest: 1 });
    this.#clients.push(client);
    return client;
  }

  /** A random step id whose events key `cleanup()` deletes. */
  stepId(): string {
    const stepId = `test-${randomUUID()}`;
    this.#keys.add(DEFAULT_FLEET_NAMES.events(stepId));
    this.#keys.add(DEFAULT_FLEET_NAMES.fence(stepId));
    return stepId;
  }

  /** The names of a fresh fleet (random prefix); `cleanup()` deletes every key under its prefix. */
  fleet(): FleetNames {
    const names = fleetNames(`sfstream-${randomUUID().slice(0, 8)}`);
    this.#fleets.push(names);
    return names;
  }

  /** Connections to Redis carrying this test's name. */
  async openConnections(): Promise<number> {
    const list = (await this.#admin.client('LIST')) as string;
    return list.split('\n').filter((line) => line.includes(` name=${this.name} `)).length;
  }

  /** Kills this test's connections that are in subscriber mode, as a network failure would. */
  async killSubscribers(): Promise<number> {
    const list = (await this.#admin.client('LIST')) as string;
    const ids = list
      .split('\n')
      .filter((line) => line.includes(` name=${this.name} `) && !line.includes(' sub=0 '))
      .map((line) => /^id=(\d+)/.exec(line)?.[1]);
    for (const id of ids) if (id) await this.#admin.client('KILL', 'ID', id);
    return ids.length;
  }

  /** Subscribers of a pub/sub channel. */
  async subscribers(channel: string): Promise<number> {
    const [, count] = (await this.#admin.pubsub('NUMSUB', channel)) as [string, number];
    return count;
  }

  /** Deletes the keys, closes the test's own connections, returns how many named ones are left. */
  async cleanup(): Promise<number> {
    for (const { prefix } of this.#fleets) {
      for await (const keys of this.#admin.scanStream({ match: `${prefix}:*`, count: 1000 })) {
        for (const key of keys as string[]) this.#keys.add(key);
      }
    }
    if (this.#keys.size > 0) await this.#admin.del(...this.#keys);
    await Promise.all(this.#clients.map((client) => (client.status === 'end' ? undefined : client.quit())));
    let left = await this.openConnections();
    // The server drops a connection just after answering its QUIT.
    for (
      const deadline = Date.now() + 2000;
      left > 0 && Date.now() < deadline;
      left = await this.openConnections()
    ) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await this.#admin.quit();
    return left;
  }
}

/** Resolves once `check` returns true; fails after `timeoutMs`. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Every item of an async iterable. */
export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

/** Splits `data` into chunks of pseudo-random sizes in [1, maxSize], the same every run. */
export function* chunks(data: Buffer, maxSize: number, seed = 7): Generator<Buffer> {
  let state = seed;
  for (let at = 0; at < data.length; ) {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    const size = 1 + (state % maxSize);
    yield data.subarray(at, at + size);
    at += size;
  }
}
