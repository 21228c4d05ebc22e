import { randomBytes } from 'node:crypto';
import type { StepJobResult, StepSpec, StepStatus } from '@sandfleet/contracts';
import { Redis } from 'ioredis';
import {
  StepQueue,
  type StepQueueOptions,
  type StepStoreForEnqueue,
  StepWorker,
  type StepWorkerOptions,
  WarmHintQueue,
  type WarmHintQueueOptions,
  WarmHintWorker,
  type WarmHintWorkerOptions,
} from '../src/index.js';

/** Redis the integration tests run against. */
export const REDIS_URL = process.env.SANDFLEET_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A unique id starting with `prefix`. */
export const randomId = (prefix: string) => `${prefix}-${randomBytes(6).toString('hex')}`;

/**
 * In-memory {@link StepStoreForEnqueue}: a fake of pure bookkeeping, so these tests need no
 * database (the db package's StepRepository is tested against PostgreSQL in its own package).
 */
export class FakeStepStore implements StepStoreForEnqueue {
  readonly rows = new Map<string, { status: StepStatus; spec?: StepSpec; producer?: string | null }>();
  /** Every call, as `method:id`. */
  readonly calls: string[] = [];

  async insertQueued(step: { id: string; spec: StepSpec }): Promise<{ inserted: boolean }> {
    this.calls.push(`insertQueued:${step.id}`);
    if (this.rows.has(step.id)) return { inserted: false };
    this.rows.set(step.id, { status: 'queued', spec: step.spec });
    return { inserted: true };
  }

  async insertQueuedMany(steps: readonly { id: string; spec: StepSpec; producer?: string | null }[]) {
    this.calls.push(`insertQueuedMany:${steps.map((step) => step.id).join(',')}`);
    const inserted: string[] = [];
    for (const step of steps) {
      if (this.rows.has(step.id)) continue;
      this.rows.set(step.id, { status: 'queued', spec: step.spec, producer: step.producer ?? null });
      inserted.push(step.id);
    }
    return inserted;
  }

  async getStates(ids: readonly string[]): Promise<Map<string, { status: StepStatus }>> {
    this.calls.push(`getStates:${ids.join(',')}`);
    const states = new Map<string, { status: StepStatus }>();
    for (const id of ids) {
      const row = this.rows.get(id);
      if (row) states.set(id, { status: row.status });
    }
    return states;
  }

  async deleteQueuedMany(ids: readonly string[]): Promise<string[]> {
    this.calls.push(`deleteQueuedMany:${ids.join(',')}`);
    return ids.filter((id) => this.rows.get(id)?.status === 'queued' && this.rows.delete(id));
  }

  async get(id: string): Promise<{ status: StepStatus } | undefined> {
    this.calls.push(`get:${id}`);
    const row = this.rows.get(id);
    return row && { status: row.status };
  }

  async deleteQueued(id: string): Promise<boolean> {
    this.calls.push(`deleteQueued:${id}`);
    return this.rows.get(id)?.status === 'queued' && this.rows.delete(id);
  }

  /** A row as an earlier enqueue or a worker left it. */
  seed(id: string, status: StepStatus): void {
    this.rows.set(id, { status });
  }
}

/** The summary a handler returns for `stepId`. */
export function summary(stepId: string): StepJobResult {
  return { stepId, status: 'succeeded', exitCode: 0, durationMs: 1 };
}

/** A minimal valid StepSpec input. */
export function specInput(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { agentId: 'agent-q', command: ['echo', 'hello'], ...overrides };
}

/**
 * One test's queue world on the real Redis: a random BullMQ prefix, the queues and workers it
 * made, and a cleanup that obliterates the queue and reports what was left behind.
 */
export class QueueTestEnv {
  readonly token = randomId('qt');
  readonly prefix = `sftest-${this.token}`;
  readonly #admin = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  readonly #queues: StepQueue[] = [];
  readonly #workers: StepWorker[] = [];
  readonly #closables: { close(): Promise<void> }[] = [];

  /** A producer on this test's prefix, closed by `cleanup()`. */
  queue(options: Partial<StepQueueOptions> = {}): StepQueue {
    const queue = new StepQueue({ redisUrl: REDIS_URL, prefix: this.prefix, ...options });
    this.#queues.push(queue);
    return queue;
  }

  /** A (not yet started) worker on this test's prefix, closed by `cleanup()`. */
  worker(options: Pick<StepWorkerOptions, 'handler'> & Partial<StepWorkerOptions>): StepWorker {
    const worker = new StepWorker({
      redisUrl: REDIS_URL,
      prefix: this.prefix,
      workerId: `${this.token}-w${this.#workers.length + 1}`,
      concurrency: 1,
      ...options,
    });
    this.#workers.push(worker);
    return worker;
  }

  /** A warm-hints producer on this test's prefix, closed by `cleanup()`. */
  warmHints(options: Partial<WarmHintQueueOptions> = {}): WarmHintQueue {
    const hints = new WarmHintQueue({ redisUrl: REDIS_URL, prefix: this.prefix, ...options });
    this.#closables.push(hints);
    return hints;
  }

  /** A (not yet started) warm-hints consumer on this test's prefix, closed by `cleanup()`. */
  warmHintWorker(
    options: Pick<WarmHintWorkerOptions, 'handler'> & Partial<WarmHintWorkerOptions>,
  ): WarmHintWorker {
    const worker = new WarmHintWorker({
      redisUrl: REDIS_URL,
      prefix: this.prefix,
      workerId: `${this.token}-h${this.#closables.length + 1}`,
      ...options,
    });
    this.#closables.push(worker);
    return worker;
  }

  stepId(): string {
    return randomId(`${this.token}-s`);
  }

  /**
   * Closes workers, obliterates the queue, closes producers.
   * @returns keys under the prefix and Redis connections named after this test still there.
   */
  async cleanup(): Promise<{ keys: number; connections: number }> {
    await Promise.all(this.#workers.map((worker) => worker.close()));
    await Promise.all([...this.#queues, ...this.#closables].map((closable) => closable.close()));
    const reaper = new StepQueue({ redisUrl: REDIS_URL, prefix: this.prefix });
    await reaper.queue.obliterate({ force: true });
    await reaper.close();
    const hints = new WarmHintQueue({ redisUrl: REDIS_URL, prefix: this.prefix });
    await hints.queue.obliterate({ force: true });
    await hints.close();
    const keys = (await this.#admin.keys(`${this.prefix}:*`)).length;
    // The server drops a connection just after the client's QUIT is answered.
    let connections = await this.#connections();
    for (const deadline = Date.now() + 2000; connections > 0 && Date.now() < deadline; ) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      connections = await this.#connections();
    }
    await this.#admin.quit();
    return { keys, connections };
  }

  async #connections(): Promise<number> {
    const list = (await this.#admin.client('LIST')) as string;
    return list.split('\n').filter((line) => line.includes(this.token)).length;
  }
}

/** Polls `probe` until it returns a value other than undefined/false; fails after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A promise with its resolver, to hold a handler until the test lets it go. */
export function gate(): { promise: Promise<void>; open(): void } {
  let open = () => {};
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}
