import type { Redis } from 'ioredis';

/** What a Redis server keeps across a restart and under memory pressure. */
export interface RedisDurability {
  /** The append-only file is on: accepted jobs survive a restart. */
  appendOnly: boolean;
  /** `appendfsync` (`everysec`, `always`, `no`), when the server lets us read it. */
  appendFsync?: string;
  /** `maxmemory-policy`: anything but `noeviction` may drop queued jobs when Redis is full. */
  evictionPolicy: string;
  /** `maxmemory` in bytes; 0 means no limit. */
  maxMemoryBytes: number;
  /** Each reason the server may lose accepted steps, as a sentence; empty when none. */
  problems: string[];
}

/** How set-up provisions Redis, and what {@link redisDurability} asks for. */
export const DURABLE_REDIS_SETTINGS = {
  appendonly: 'yes',
  appendfsync: 'everysec',
  'maxmemory-policy': 'noeviction',
} as const;

/**
 * Reads the server's persistence and eviction settings (from `INFO`, which managed services allow
 * where `CONFIG` is often renamed away) and says what may lose accepted steps: a Redis without the
 * append-only file loses every job on restart, and one that evicts can drop queued jobs when full.
 */
export async function redisDurability(redis: Redis): Promise<RedisDurability> {
  const info = parseInfo(await redis.info('persistence'), await redis.info('memory'));
  const appendOnly = info.get('aof_enabled') === '1';
  const evictionPolicy = info.get('maxmemory_policy') ?? 'unknown';
  const maxMemoryBytes = Number(info.get('maxmemory') ?? 0);
  const appendFsync = await redis
    .config('GET', 'appendfsync')
    .then((reply) => (Array.isArray(reply) ? (reply[1] as string | undefined) : undefined))
    .catch(() => undefined);
  const problems: string[] = [];
  if (!appendOnly) problems.push('append-only file off (appendonly no): a restart loses every queued job');
  if (appendFsync === 'no') problems.push('appendfsync no: a crash can lose what the kernel had not written');
  if (evictionPolicy !== 'noeviction')
    problems.push(`maxmemory-policy ${evictionPolicy}: a full Redis may evict queued jobs`);
  return { appendOnly, ...(appendFsync ? { appendFsync } : {}), evictionPolicy, maxMemoryBytes, problems };
}

function parseInfo(...sections: string[]): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of sections.join('\n').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0 && !line.startsWith('#')) fields.set(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  return fields;
}
