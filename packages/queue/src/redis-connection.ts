import { Redis, type RedisOptions } from 'ioredis';

export interface RedisConnectionOptions {
  /** `redis://host:port/db` */
  url: string;
  /**
   * `worker`: retries forever (BullMQ workers must, `maxRetriesPerRequest: null`);
   * `producer`: fails fast so a caller sees Redis being down at once.
   */
  role: 'worker' | 'producer';
  name?: string;
}

/** Creates an ioredis connection set up for its role. */
export function createRedisConnection(options: RedisConnectionOptions): Redis {
  const common: RedisOptions = { connectionName: options.name, lazyConnect: false };
  const role: RedisOptions =
    options.role === 'worker'
      ? { maxRetriesPerRequest: null, enableReadyCheck: true }
      : { maxRetriesPerRequest: 1, enableOfflineQueue: true, connectTimeout: 5000 };
  return new Redis(options.url, { ...common, ...role });
}

/**
 * Resolves at once when `redis` is connected, else once it answers a PING; rejects with
 * `unavailable(cause)` when it does not. BullMQ waits for a first connection without a deadline,
 * so without this a producer started while Redis was down would hang every call until it is up.
 */
export async function assertReachable(redis: Redis, unavailable: (cause: unknown) => Error): Promise<void> {
  if (redis.status === 'ready') return;
  try {
    await redis.ping();
  } catch (error) {
    throw unavailable(error);
  }
}
