import { DEFAULT_FLEET_NAMES, type FleetNames } from '@sandfleet/contracts';
import type { Redis } from 'ioredis';

/** Deletes the lock only while it still belongs to the step that took it. */
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;
/** Extends the lock only while it still belongs to the step that took it. */
const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;

export interface AgentLocksOptions {
  redis: Redis;
  /** Names of the fleet whose agents are locked. @defaultValue the default fleet's (`sandfleet:agent-lock:{agentId}`) */
  names?: FleetNames;
  /** A lock left by a dead worker frees itself after this long, ms; renewed at a third of it. */
  ttlMs: number;
}

/** A held agent lock; renewed in the background until released. */
export interface AgentLease {
  release(): Promise<void>;
}

/**
 * One step at a time per agent, across all workers: steps of one agent share its home volume,
 * and two at once could corrupt it. Key `<prefix>:agent-lock:{agentId}` holds the step id; each
 * fleet has its own homes, so its own locks.
 */
export class AgentLocks {
  readonly #redis: Redis;
  readonly #ttlMs: number;
  readonly #names: FleetNames;

  constructor(options: AgentLocksOptions) {
    this.#redis = options.redis;
    this.#names = options.names ?? DEFAULT_FLEET_NAMES;
    this.#ttlMs = options.ttlMs;
  }

  /** Takes the agent's lock for `stepId` (again, if that step already holds it); undefined when another step holds it. */
  async acquire(agentId: string, stepId: string): Promise<AgentLease | undefined> {
    const key = this.#names.agentLock(agentId);
    const taken = await this.#redis.set(key, stepId, 'PX', this.#ttlMs, 'NX');
    if (taken !== 'OK' && !(await this.#renew(key, stepId))) return undefined;
    const timer = setInterval(
      () => void this.#renew(key, stepId).catch(() => {}),
      Math.max(50, this.#ttlMs / 3),
    );
    timer.unref();
    let released: Promise<void> | undefined;
    return {
      release: () => {
        released ??= (async () => {
          clearInterval(timer);
          await this.#redis.eval(RELEASE, 1, key, stepId);
        })();
        return released;
      },
    };
  }

  /** The step holding the agent's lock, if any. */
  holder(agentId: string): Promise<string | null> {
    return this.#redis.get(this.#names.agentLock(agentId));
  }

  async #renew(key: string, stepId: string): Promise<boolean> {
    return (await this.#redis.eval(RENEW, 1, key, stepId, String(this.#ttlMs))) === 1;
  }
}
